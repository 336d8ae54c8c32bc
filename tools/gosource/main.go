// gosource prints the structure of Go source files as JSON, read with Go's own parser: every
// top-level function with its lines, every Ginkgo node call (It, Describe, Entry, BeforeEach...)
// with its text, its lines and the chain of containers around it, and the same-package functions
// each body calls. kubeflake maps a diff's hunks to the specs and tests they change with it, and
// points fixes at source lines; it never reads Go source any other way.
//
//	gosource FILE_OR_DIR...
//	gosource deletes FILE_OR_DIR...            (fix.go: every Delete call, and whether a wait follows)
//	gosource wait-after-delete FILE LINE       (fix.go: the file patched to wait after that Delete)
//	gosource shared-vars DIR P_FILE P_LINE V_FILE V_LINE       (sharedvar.go: variables the polluter assigns, the victim reads)
//	gosource reset-shared-var DIR P_FILE P_LINE V_FILE V_LINE  (sharedvar.go: the victim's file with a BeforeEach resetting it)
//
// A directory stands for its *.go files (tests included), which form one package. Output, on
// stdout, one JSON document:
//
//	{"files": [{
//	  "file": "/abs/path/x_test.go",      // as given, made absolute
//	  "package": "controller",            // the package clause
//	  "error": "...",                     // only when the file does not parse; then nothing else
//	  "funcs": [{"name": "TestX", "receiver": "", "start": 10, "end": 20,
//	             "calls": ["helper"]}],   // same-package top-level funcs called from its body
//	  "nodes": [{"kind": "It", "text": "creates it", "start": 12, "end": 18,
//	             "containers": [0],        // indexes into this file's nodes, outermost first
//	             "calls": ["makeCache"],   // same-package funcs called from its arguments
//	             "func": "init",           // the top-level func it is declared in ("" at package level)
//	             "own": [{"start": 13, "end": 13}]}] // statements of its body func that are not Ginkgo nodes
//	}]}
//
// Lines are 1-based and inclusive. A node's text is its first argument when that is a string
// literal (or a constant string expression of literals), "" otherwise. Calls name only functions
// declared at the top level of the same package (any file given for that directory), so helpers a
// spec shares with others are found; methods and other packages' functions are not listed.
package main

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Ginkgo's node functions (v1 and v2), focused (F) and pending (P, X) forms included.
var nodeKinds = map[string]bool{}

func init() {
	base := []string{
		"Describe", "Context", "When", "It", "Specify", "DescribeTable", "DescribeTableSubtree", "Entry",
		"BeforeEach", "JustBeforeEach", "AfterEach", "JustAfterEach", "BeforeAll", "AfterAll",
		"BeforeSuite", "AfterSuite", "SynchronizedBeforeSuite", "SynchronizedAfterSuite",
		"ReportBeforeEach", "ReportAfterEach", "ReportBeforeSuite", "ReportAfterSuite",
		"DeferCleanup", "Measure",
	}
	focusable := map[string]bool{"Describe": true, "Context": true, "When": true, "It": true, "Specify": true, "DescribeTable": true, "DescribeTableSubtree": true, "Entry": true, "Measure": true}
	for _, name := range base {
		nodeKinds[name] = true
		if focusable[name] {
			nodeKinds["F"+name] = true
			nodeKinds["P"+name] = true
			nodeKinds["X"+name] = true
		}
	}
}

type function struct {
	Name     string   `json:"name"`
	Receiver string   `json:"receiver"`
	Start    int      `json:"start"`
	End      int      `json:"end"`
	Calls    []string `json:"calls"`
}

type node struct {
	Kind       string   `json:"kind"`
	Text       string   `json:"text"`
	Start      int      `json:"start"`
	End        int      `json:"end"`
	Containers []int    `json:"containers"`
	Calls      []string `json:"calls"`
	Func       string   `json:"func"`
	Own        []lines  `json:"own"`
}

// lines is an inclusive range of lines.
type lines struct {
	Start int `json:"start"`
	End   int `json:"end"`
}

type file struct {
	File    string     `json:"file"`
	Package string     `json:"package,omitempty"`
	Error   string     `json:"error,omitempty"`
	Funcs   []function `json:"funcs,omitempty"`
	Nodes   []node     `json:"nodes,omitempty"`
}

type parsed struct {
	path string
	ast  *ast.File
	err  error
}

func main() {
	if len(os.Args) > 1 && subcommands[os.Args[1]] != nil {
		os.Exit(subcommands[os.Args[1]](os.Args[2:]))
	}
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: gosource FILE_OR_DIR...: prints the functions and Ginkgo nodes of Go files as JSON")
		os.Exit(2)
	}
	fset := token.NewFileSet()
	var groups [][]parsed
	for _, arg := range os.Args[1:] {
		paths, err := goFiles(arg)
		if err != nil {
			fmt.Fprintf(os.Stderr, "gosource: %s: %v\n", arg, err)
			os.Exit(1)
		}
		var group []parsed
		for _, path := range paths {
			f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
			group = append(group, parsed{path: path, ast: f, err: err})
		}
		groups = append(groups, group)
	}
	out := struct {
		Files []file `json:"files"`
	}{Files: []file{}}
	for _, group := range groups {
		declared := topLevelFuncs(group)
		for _, p := range group {
			out.Files = append(out.Files, describe(fset, p, declared))
		}
	}
	encoder := json.NewEncoder(os.Stdout)
	if err := encoder.Encode(out); err != nil {
		fmt.Fprintf(os.Stderr, "gosource: %v\n", err)
		os.Exit(1)
	}
}

// goFiles: the file itself, or a directory's *.go files in name order.
func goFiles(arg string) ([]string, error) {
	abs, err := filepath.Abs(arg)
	if err != nil {
		return nil, err
	}
	info, err := os.Stat(abs)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		return []string{abs}, nil
	}
	entries, err := os.ReadDir(abs)
	if err != nil {
		return nil, err
	}
	var paths []string
	for _, entry := range entries {
		if !entry.IsDir() && strings.HasSuffix(entry.Name(), ".go") {
			paths = append(paths, filepath.Join(abs, entry.Name()))
		}
	}
	sort.Strings(paths)
	return paths, nil
}

// topLevelFuncs: the names of plain functions (no receiver) declared in the group, per package clause.
func topLevelFuncs(group []parsed) map[string]map[string]bool {
	declared := map[string]map[string]bool{}
	for _, p := range group {
		if p.ast == nil {
			continue
		}
		pkg := p.ast.Name.Name
		if declared[pkg] == nil {
			declared[pkg] = map[string]bool{}
		}
		for _, decl := range p.ast.Decls {
			if fn, ok := decl.(*ast.FuncDecl); ok && fn.Recv == nil {
				declared[pkg][fn.Name.Name] = true
			}
		}
	}
	// An external test package (foo_test) calls the functions of the package it tests only by
	// selector, so only its own declarations count; an in-package test file shares them all.
	return declared
}

func describe(fset *token.FileSet, p parsed, declared map[string]map[string]bool) file {
	out := file{File: p.path}
	if p.err != nil && p.ast == nil {
		out.Error = p.err.Error()
		return out
	}
	if p.err != nil {
		out.Error = p.err.Error()
	}
	out.Package = p.ast.Name.Name
	own := declared[out.Package]
	line := func(pos token.Pos) int { return fset.Position(pos).Line }
	out.Funcs = []function{}
	out.Nodes = []node{}
	for _, decl := range p.ast.Decls {
		fn, ok := decl.(*ast.FuncDecl)
		if !ok {
			continue
		}
		f := function{Name: fn.Name.Name, Start: line(fn.Pos()), End: line(fn.End()), Calls: callsIn(fn.Body, own)}
		if fn.Recv != nil && len(fn.Recv.List) > 0 {
			f.Receiver = typeName(fn.Recv.List[0].Type)
		}
		out.Funcs = append(out.Funcs, f)
	}
	// Ginkgo nodes anywhere: in `var _ = Describe(...)` at package level and inside functions.
	var stack []int
	for _, decl := range p.ast.Decls {
		within := ""
		if fn, ok := decl.(*ast.FuncDecl); ok {
			within = fn.Name.Name
		}
		walkGinkgoNodes(decl, func(call *ast.CallExpr, kind string) {
			entry := node{Kind: kind, Text: textOf(call), Start: line(call.Pos()), End: line(call.End()), Containers: append([]int{}, stack...), Func: within}
			var calls []string
			for _, arg := range call.Args {
				calls = append(calls, callsIn(arg, own)...)
			}
			entry.Calls = unique(calls)
			entry.Own = ownStatements(call, line)
			out.Nodes = append(out.Nodes, entry)
			stack = append(stack, len(out.Nodes)-1)
		}, func() { stack = stack[:len(stack)-1] })
	}
	return out
}

// walkGinkgoNodes calls enter for every Ginkgo node call under root, outermost first, and leave
// once the nodes nested in its arguments are walked: the caller keeps its own container stack.
func walkGinkgoNodes(root ast.Node, enter func(call *ast.CallExpr, kind string), leave func()) {
	var visit func(n ast.Node) bool
	visit = func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		kind := calleeName(call.Fun)
		if !nodeKinds[kind] {
			return true
		}
		enter(call, kind)
		for _, arg := range call.Args {
			ast.Inspect(arg, visit)
		}
		leave()
		return false
	}
	ast.Inspect(root, visit)
}

// ownStatements: the lines of the statements in the node's function arguments that are not
// themselves Ginkgo nodes (a container's variables and setup code, a table's body, a spec's code).
func ownStatements(call *ast.CallExpr, line func(token.Pos) int) []lines {
	own := []lines{}
	for _, arg := range call.Args {
		body, ok := arg.(*ast.FuncLit)
		if !ok {
			continue
		}
		for _, stmt := range body.Body.List {
			if expr, ok := stmt.(*ast.ExprStmt); ok {
				if inner, ok := expr.X.(*ast.CallExpr); ok && nodeKinds[calleeName(inner.Fun)] {
					continue
				}
			}
			own = append(own, lines{Start: line(stmt.Pos()), End: line(stmt.End())})
		}
	}
	return own
}

// calleeName: "It" for It(...) and ginkgo.It(...).
func calleeName(fun ast.Expr) string {
	switch f := fun.(type) {
	case *ast.Ident:
		return f.Name
	case *ast.SelectorExpr:
		return f.Sel.Name
	}
	return ""
}

// textOf: the first argument when it is a string literal, or literals joined with +.
func textOf(call *ast.CallExpr) string {
	if len(call.Args) == 0 {
		return ""
	}
	text, ok := constantString(call.Args[0])
	if !ok {
		return ""
	}
	return text
}

func constantString(expr ast.Expr) (string, bool) {
	switch e := expr.(type) {
	case *ast.BasicLit:
		if e.Kind != token.STRING {
			return "", false
		}
		s, err := strconv.Unquote(e.Value)
		return s, err == nil
	case *ast.BinaryExpr:
		if e.Op != token.ADD {
			return "", false
		}
		a, okA := constantString(e.X)
		b, okB := constantString(e.Y)
		return a + b, okA && okB
	case *ast.ParenExpr:
		return constantString(e.X)
	}
	return "", false
}

// callsIn: the same-package top-level functions called anywhere under n, each once, in order.
func callsIn(n ast.Node, own map[string]bool) []string {
	var calls []string
	if n == nil || own == nil {
		return []string{}
	}
	ast.Inspect(n, func(x ast.Node) bool {
		if call, ok := x.(*ast.CallExpr); ok {
			if ident, ok := call.Fun.(*ast.Ident); ok && own[ident.Name] {
				calls = append(calls, ident.Name)
			}
		}
		return true
	})
	return unique(calls)
}

func typeName(expr ast.Expr) string {
	switch t := expr.(type) {
	case *ast.StarExpr:
		return typeName(t.X)
	case *ast.Ident:
		return t.Name
	case *ast.IndexExpr:
		return typeName(t.X)
	case *ast.IndexListExpr:
		return typeName(t.X)
	}
	return ""
}

func unique(names []string) []string {
	seen := map[string]bool{}
	out := []string{}
	for _, name := range names {
		if !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	return out
}
