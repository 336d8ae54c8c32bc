package main

// Pollution that is not in the cluster: a variable of the package or of a Ginkgo container that
// the polluter's nodes assign and the victim's nodes read before assigning it themselves. Read
// with Go's parser (its identifier resolution tells a shared variable from a local that shadows
// it), printed with go/format.
//
//	gosource shared-vars DIR POLLUTER_FILE POLLUTER_LINE VICTIM_FILE VICTIM_LINE
//	  {"shared": [{"name", "scope": "package"|"container", "declared": {"file","line"},
//	               "assigned": {"file","line","what"}, "read": {"file","line","what"}, "value"}]}
//	gosource reset-shared-var DIR POLLUTER_FILE POLLUTER_LINE VICTIM_FILE VICTIM_LINE
//	  {"file", "source": "...the victim's file, patched and gofmt'ed...", "statement", "name"}
//	  or {"error": "why no patch"} with exit status 3.
//
// The spec lines are their leaf nodes' (Ginkgo JSON's LeafNodeLocation).

import (
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"os"
	"sort"
	"strconv"
	"strings"
)

func init() {
	subcommands["shared-vars"] = runSharedVars
	subcommands["reset-shared-var"] = runResetSharedVar
}

type place struct {
	File string `json:"file"`
	Line int    `json:"line"`
	What string `json:"what,omitempty"`
}

type sharedVar struct {
	Name     string `json:"name"`
	Scope    string `json:"scope"`
	Declared place  `json:"declared"`
	Assigned place  `json:"assigned"`
	Read     place  `json:"read"`
	// The value the reset gives it: its initializer, or the zero value of its type.
	Value string `json:"value"`

	readNode *ginkgoNode
	declPos  token.Pos
}

// ginkgoNode is one Ginkgo node call with its body and the containers around it (outermost first).
type ginkgoNode struct {
	kind       string
	text       string
	call       *ast.CallExpr
	body       *ast.FuncLit
	containers []*ginkgoNode
	file       *varFile
}

type varFile struct {
	path string
	ast  *ast.File
	src  []byte
}

type varPackage struct {
	fset  *token.FileSet
	files []*varFile
	nodes []*ginkgoNode
	// Package-level vars by name: the identifier that declares them, and its spec.
	globals map[string]*ast.Ident
	specs   map[*ast.Ident]*ast.ValueSpec
	helpers map[string]*ast.FuncDecl
	// Vars declared directly in a container's body: their declaring identifier.
	containerVars map[token.Pos]bool
}

var containerKinds = map[string]bool{"Describe": true, "Context": true, "When": true, "FDescribe": true, "FContext": true, "FWhen": true, "PDescribe": true, "PContext": true, "PWhen": true, "XDescribe": true, "XContext": true, "XWhen": true}
var leafKinds = map[string]bool{"It": true, "Specify": true, "Entry": true, "FIt": true, "FSpecify": true, "FEntry": true, "PIt": true, "XIt": true}
var setupKinds = map[string]int{"BeforeAll": 0, "BeforeEach": 1, "JustBeforeEach": 2}
var teardownKinds = map[string]bool{"AfterEach": true, "JustAfterEach": true, "AfterAll": true}

func loadVarPackage(dir string) (*varPackage, error) {
	paths, err := goFiles(dir)
	if err != nil {
		return nil, err
	}
	pkg := &varPackage{fset: token.NewFileSet(), globals: map[string]*ast.Ident{}, specs: map[*ast.Ident]*ast.ValueSpec{}, helpers: map[string]*ast.FuncDecl{}, containerVars: map[token.Pos]bool{}}
	for _, path := range paths {
		src, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		// Object resolution on: an identifier inside a file points at the declaration it means.
		f, err := parser.ParseFile(pkg.fset, path, src, parser.ParseComments)
		if f == nil || err != nil {
			continue
		}
		vf := &varFile{path: path, ast: f, src: src}
		pkg.files = append(pkg.files, vf)
		for _, decl := range f.Decls {
			switch d := decl.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil {
					pkg.helpers[d.Name.Name] = d
				}
			case *ast.GenDecl:
				if d.Tok != token.VAR {
					continue
				}
				for _, spec := range d.Specs {
					vs := spec.(*ast.ValueSpec)
					for _, name := range vs.Names {
						pkg.globals[name.Name] = name
						pkg.specs[name] = vs
					}
				}
			}
		}
		pkg.collectNodes(vf)
	}
	return pkg, nil
}

func (pkg *varPackage) collectNodes(vf *varFile) {
	var stack []*ginkgoNode
	walkGinkgoNodes(vf.ast, func(call *ast.CallExpr, kind string) {
		node := &ginkgoNode{kind: kind, text: textOf(call), call: call, containers: append([]*ginkgoNode{}, stack...), file: vf}
		for _, arg := range call.Args {
			if lit, ok := arg.(*ast.FuncLit); ok {
				node.body = lit
			}
		}
		pkg.nodes = append(pkg.nodes, node)
		if containerKinds[kind] && node.body != nil {
			for _, stmt := range node.body.Body.List {
				for _, id := range declaredIdents(stmt) {
					pkg.containerVars[id.Pos()] = true
				}
			}
		}
		stack = append(stack, node)
	}, func() { stack = stack[:len(stack)-1] })
}

// code: the function a node runs; an Entry runs its DescribeTable's body function.
func (node *ginkgoNode) code() *ast.FuncLit {
	if node.body != nil || len(node.containers) == 0 {
		return node.body
	}
	if table := node.containers[len(node.containers)-1]; strings.HasSuffix(table.kind, "DescribeTable") {
		return table.body
	}
	return nil
}

// declaredIdents: the names a `var` statement or a `:=` declares.
func declaredIdents(stmt ast.Stmt) []*ast.Ident {
	var out []*ast.Ident
	switch s := stmt.(type) {
	case *ast.DeclStmt:
		if gen, ok := s.Decl.(*ast.GenDecl); ok && gen.Tok == token.VAR {
			for _, spec := range gen.Specs {
				out = append(out, spec.(*ast.ValueSpec).Names...)
			}
		}
	case *ast.AssignStmt:
		if s.Tok == token.DEFINE {
			for _, lhs := range s.Lhs {
				if id, ok := lhs.(*ast.Ident); ok {
					out = append(out, id)
				}
			}
		}
	}
	return out
}

// spec: the leaf node at file:line (or the innermost leaf around it) with the nodes that run for it, in run order.
func (pkg *varPackage) spec(file string, line int) (*ginkgoNode, []*ginkgoNode) {
	var leaf *ginkgoNode
	for _, node := range pkg.nodes {
		if !leafKinds[node.kind] || !sameFile(node.file.path, file) {
			continue
		}
		start, end := pkg.fset.Position(node.call.Pos()).Line, pkg.fset.Position(node.call.End()).Line
		if start == line {
			leaf = node
			break
		}
		if start <= line && line <= end && (leaf == nil || node.call.Pos() > leaf.call.Pos()) {
			leaf = node
		}
	}
	if leaf == nil {
		return nil, nil
	}
	within := map[*ginkgoNode]int{}
	for depth, container := range leaf.containers {
		within[container] = depth
	}
	type ranked struct {
		node        *ginkgoNode
		phase, deep int
	}
	var around []ranked
	for _, node := range pkg.nodes {
		if len(node.containers) == 0 || node.body == nil {
			continue
		}
		depth, ok := within[node.containers[len(node.containers)-1]]
		if !ok {
			continue
		}
		if phase, ok := setupKinds[node.kind]; ok {
			around = append(around, ranked{node, phase, depth})
		} else if teardownKinds[node.kind] {
			around = append(around, ranked{node, 4, -depth})
		}
	}
	around = append(around, ranked{leaf, 3, 0})
	// Ginkgo's order: BeforeAll, BeforeEach, JustBeforeEach outermost first, the spec, then teardown innermost first.
	sort.SliceStable(around, func(i, j int) bool {
		if around[i].phase != around[j].phase {
			return around[i].phase < around[j].phase
		}
		return around[i].deep < around[j].deep
	})
	var nodes []*ginkgoNode
	for _, r := range around {
		nodes = append(nodes, r.node)
	}
	return leaf, nodes
}

// access is one use of a shared variable: a read, an assignment of the whole variable, or a
// change in place (a field, an element, `+=`, `++`: it reads the old value and writes).
type access struct {
	key  token.Pos
	name string
	pos  token.Pos
	kind accessKind
	// The package helper it is in, "" when it is in the node itself.
	helper string
}

type accessKind int

const (
	read accessKind = iota
	write
	modify
)

// sharedKey: the declaring identifier of the package or container variable `id` means, or NoPos.
func (pkg *varPackage) sharedKey(id *ast.Ident) token.Pos {
	if id.Obj == nil {
		// Unresolved in its file: a package-level name declared in another file, or a universe name.
		if decl, ok := pkg.globals[id.Name]; ok {
			return decl.Pos()
		}
		return token.NoPos
	}
	if id.Obj.Kind != ast.Var {
		return token.NoPos
	}
	var decl *ast.Ident
	switch d := id.Obj.Decl.(type) {
	case *ast.ValueSpec:
		for _, name := range d.Names {
			if name.Name == id.Name {
				decl = name
			}
		}
	case *ast.AssignStmt:
		for _, lhs := range d.Lhs {
			if name, ok := lhs.(*ast.Ident); ok && name.Name == id.Name {
				decl = name
			}
		}
	}
	if decl == nil {
		return token.NoPos
	}
	if global, ok := pkg.globals[decl.Name]; ok && global == decl {
		return decl.Pos()
	}
	if pkg.containerVars[decl.Pos()] {
		return decl.Pos()
	}
	return token.NoPos
}

// accesses: the uses of shared variables under n, in the order they run (a right side before its left).
func (pkg *varPackage) accesses(n ast.Node) []access {
	var out []access
	var visit func(x ast.Node) bool
	record := func(id *ast.Ident, kind accessKind) {
		if id == nil {
			return
		}
		if key := pkg.sharedKey(id); key != token.NoPos {
			out = append(out, access{key: key, name: id.Name, pos: id.Pos(), kind: kind})
		}
	}
	// target: an assignment's left side; the variable under it, and the expressions it evaluates (indexes).
	var target func(e ast.Expr, whole bool, kind accessKind)
	target = func(e ast.Expr, whole bool, kind accessKind) {
		switch x := e.(type) {
		case *ast.Ident:
			if whole {
				record(x, kind)
			} else {
				record(x, modify)
			}
		case *ast.SelectorExpr:
			target(x.X, false, kind)
		case *ast.IndexExpr:
			ast.Inspect(x.Index, visit)
			target(x.X, false, kind)
		case *ast.StarExpr:
			target(x.X, false, kind)
		case *ast.ParenExpr:
			target(x.X, whole, kind)
		default:
			ast.Inspect(e, visit)
		}
	}
	visit = func(x ast.Node) bool {
		switch s := x.(type) {
		case *ast.AssignStmt:
			for _, rhs := range s.Rhs {
				ast.Inspect(rhs, visit)
			}
			if s.Tok == token.DEFINE {
				return false
			}
			kind := write
			if s.Tok != token.ASSIGN {
				kind = modify
			}
			for _, lhs := range s.Lhs {
				target(lhs, true, kind)
			}
			return false
		case *ast.IncDecStmt:
			target(s.X, true, modify)
			return false
		case *ast.SelectorExpr:
			// x.name: the name is a field or method, never the package variable of that name.
			ast.Inspect(s.X, visit)
			return false
		case *ast.KeyValueExpr:
			// A struct literal's field key is no variable either; the parser leaves keys unresolved.
			if _, ok := s.Key.(*ast.Ident); !ok {
				ast.Inspect(s.Key, visit)
			}
			ast.Inspect(s.Value, visit)
			return false
		case *ast.Ident:
			record(s, read)
		}
		return true
	}
	ast.Inspect(n, visit)
	return out
}

// helperAccesses: the shared-variable uses of the package helpers called under n, transitively.
func (pkg *varPackage) helperAccesses(n ast.Node, seen map[string]bool) []access {
	var out []access
	ast.Inspect(n, func(x ast.Node) bool {
		call, ok := x.(*ast.CallExpr)
		if !ok {
			return true
		}
		id, ok := call.Fun.(*ast.Ident)
		if !ok || seen[id.Name] || pkg.helpers[id.Name] == nil {
			return true
		}
		seen[id.Name] = true
		fn := pkg.helpers[id.Name]
		for _, use := range pkg.accesses(fn.Body) {
			use.helper = id.Name
			out = append(out, use)
		}
		out = append(out, pkg.helperAccesses(fn.Body, seen)...)
		return true
	})
	return out
}

func (pkg *varPackage) what(node *ginkgoNode) string {
	if leafKinds[node.kind] && node.body == nil && len(node.containers) > 0 {
		return fmt.Sprintf("the body of its %s", node.containers[len(node.containers)-1].kind)
	}
	if leafKinds[node.kind] {
		return "its " + node.kind
	}
	if len(node.containers) > 0 && node.containers[len(node.containers)-1].text != "" {
		return fmt.Sprintf("the %s of %q", node.kind, node.containers[len(node.containers)-1].text)
	}
	return "the " + node.kind + " of its container"
}

func (pkg *varPackage) at(pos token.Pos, what string) place {
	p := pkg.fset.Position(pos)
	return place{File: p.Filename, Line: p.Line, What: what}
}

// sharedVars: the variables the polluter's own nodes assign and the victim reads before it assigns them.
func sharedVars(pkg *varPackage, polluterFile string, polluterLine int, victimFile string, victimLine int) ([]sharedVar, error) {
	_, polluterNodes := pkg.spec(polluterFile, polluterLine)
	if polluterNodes == nil {
		return nil, fmt.Errorf("no Ginkgo spec of %s starts at line %d", polluterFile, polluterLine)
	}
	_, victimNodes := pkg.spec(victimFile, victimLine)
	if victimNodes == nil {
		return nil, fmt.Errorf("no Ginkgo spec of %s starts at line %d", victimFile, victimLine)
	}
	victimRuns := map[*ginkgoNode]bool{}
	for _, node := range victimNodes {
		victimRuns[node] = true
	}
	// What only the polluter runs: a node both run assigns for the victim too.
	assigned := map[token.Pos]place{}
	for _, node := range polluterNodes {
		if victimRuns[node] {
			continue
		}
		body := node.code()
		if body == nil {
			continue
		}
		uses := append(pkg.accesses(body), pkg.helperAccesses(body, map[string]bool{})...)
		for _, use := range uses {
			if _, ok := assigned[use.key]; use.kind != read && !ok {
				what := pkg.what(node)
				if use.helper != "" {
					what = fmt.Sprintf("the helper %s, called from %s", use.helper, what)
				}
				assigned[use.key] = pkg.at(use.pos, what)
			}
		}
	}
	var out []sharedVar
	first := map[token.Pos]bool{}
	for _, node := range victimNodes {
		body := node.code()
		if body == nil {
			continue
		}
		for _, use := range pkg.accesses(body) {
			if first[use.key] {
				continue
			}
			first[use.key] = true
			where, ok := assigned[use.key]
			// A victim that assigns the whole variable first starts from its own value.
			if use.kind == write || !ok {
				continue
			}
			scope := "container"
			if global, ok := pkg.globals[use.name]; ok && global.Pos() == use.key {
				scope = "package"
			}
			out = append(out, sharedVar{
				Name: use.name, Scope: scope, Declared: pkg.at(use.key, ""), Assigned: where,
				Read: pkg.at(use.pos, pkg.what(node)), Value: pkg.declaredValue(use.key), readNode: node, declPos: use.key,
			})
		}
	}
	return out, nil
}

// declaredValue: the expression the variable starts with, or the zero value of its declared type.
func (pkg *varPackage) declaredValue(key token.Pos) string {
	for _, f := range pkg.files {
		var value string
		ast.Inspect(f.ast, func(n ast.Node) bool {
			if value != "" {
				return false
			}
			switch s := n.(type) {
			case *ast.ValueSpec:
				for i, name := range s.Names {
					if name.Pos() != key {
						continue
					}
					if len(s.Values) == len(s.Names) {
						value = exprText(pkg.fset, s.Values[i])
					} else if s.Type != nil {
						value = zeroValue(pkg.fset, s.Type)
					}
				}
			case *ast.AssignStmt:
				for i, lhs := range s.Lhs {
					if lhs.Pos() == key && len(s.Rhs) == len(s.Lhs) {
						value = exprText(pkg.fset, s.Rhs[i])
					}
				}
			}
			return true
		})
		if value != "" {
			return value
		}
	}
	return ""
}

func zeroValue(fset *token.FileSet, t ast.Expr) string {
	switch x := t.(type) {
	case *ast.Ident:
		switch x.Name {
		case "string":
			return `""`
		case "bool":
			return "false"
		case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64", "uintptr", "float32", "float64", "byte", "rune", "complex64", "complex128":
			return "0"
		case "error", "any":
			return "nil"
		}
	case *ast.StarExpr, *ast.MapType, *ast.FuncType, *ast.ChanType, *ast.InterfaceType:
		return "nil"
	case *ast.ArrayType:
		if x.Len == nil {
			return "nil"
		}
	}
	return "*new(" + exprText(fset, t) + ")"
}

func runSharedVars(args []string) int {
	pkg, polluterFile, polluterLine, victimFile, victimLine, code := sharedArgs("shared-vars", args)
	if pkg == nil {
		return code
	}
	found, err := sharedVars(pkg, polluterFile, polluterLine, victimFile, victimLine)
	if err != nil {
		printJSON(map[string]string{"error": err.Error()})
		return 3
	}
	if found == nil {
		found = []sharedVar{}
	}
	return printJSON(struct {
		Shared []sharedVar `json:"shared"`
	}{found})
}

func runResetSharedVar(args []string) int {
	pkg, polluterFile, polluterLine, victimFile, victimLine, code := sharedArgs("reset-shared-var", args)
	if pkg == nil {
		return code
	}
	patched, err := resetSharedVar(pkg, polluterFile, polluterLine, victimFile, victimLine)
	if err != nil {
		printJSON(map[string]string{"error": err.Error()})
		return 3
	}
	return printJSON(patched)
}

func sharedArgs(name string, args []string) (*varPackage, string, int, string, int, int) {
	if len(args) != 5 {
		fmt.Fprintf(os.Stderr, "usage: gosource %s DIR POLLUTER_FILE POLLUTER_LINE VICTIM_FILE VICTIM_LINE\n", name)
		return nil, "", 0, "", 0, 2
	}
	polluterLine, err1 := strconv.Atoi(args[2])
	victimLine, err2 := strconv.Atoi(args[4])
	if err1 != nil || err2 != nil {
		fmt.Fprintf(os.Stderr, "gosource %s: the lines must be numbers, got %q and %q\n", name, args[2], args[4])
		return nil, "", 0, "", 0, 2
	}
	pkg, err := loadVarPackage(args[0])
	if err != nil {
		fmt.Fprintf(os.Stderr, "gosource %s: %v\n", name, err)
		return nil, "", 0, "", 0, 1
	}
	return pkg, args[1], polluterLine, args[3], victimLine, 0
}

type resetPatch struct {
	File      string `json:"file"`
	Source    string `json:"source"`
	Statement string `json:"statement"`
	Name      string `json:"name"`
	Line      int    `json:"line"`
}

// resetSharedVar gives the victim a BeforeEach of its own that sets the first shared variable it
// reads back to its declared value, in the container of the node that reads it, before that
// container's first node: it runs before the read whatever ran before the spec.
func resetSharedVar(pkg *varPackage, polluterFile string, polluterLine int, victimFile string, victimLine int) (resetPatch, error) {
	found, err := sharedVars(pkg, polluterFile, polluterLine, victimFile, victimLine)
	if err != nil {
		return resetPatch{}, err
	}
	if len(found) == 0 {
		return resetPatch{}, fmt.Errorf("the victim reads no variable that the polluter's own nodes assign")
	}
	v := found[0]
	if v.Value == "" {
		return resetPatch{}, fmt.Errorf("%s is declared without a value or a type to reset it to", v.Name)
	}
	reader := v.readNode
	// The innermost Describe, Context or When around the reader (a DescribeTable's body is a spec's, not a container's).
	var container *ginkgoNode
	for i := len(reader.containers) - 1; i >= 0 && container == nil; i-- {
		if containerKinds[reader.containers[i].kind] {
			container = reader.containers[i]
		}
	}
	if container == nil {
		return resetPatch{}, fmt.Errorf("%s reads %s at the top level of the suite: no container to give a BeforeEach", pkg.what(reader), v.Name)
	}
	if container.body == nil {
		return resetPatch{}, fmt.Errorf("the container around line %d has no function body", v.Read.Line)
	}
	// Before the container's first Ginkgo node that comes after the variable's declaration.
	var before ast.Stmt
	for _, stmt := range container.body.Body.List {
		expr, ok := stmt.(*ast.ExprStmt)
		declaredHere := container.body.Pos() <= v.declPos && v.declPos < container.body.End()
		if !ok || (declaredHere && stmt.Pos() < v.declPos) {
			continue
		}
		if call, ok := expr.X.(*ast.CallExpr); ok && nodeKinds[calleeName(call.Fun)] {
			before = stmt
			break
		}
	}
	if before == nil {
		return resetPatch{}, fmt.Errorf("the container of %s holds no Ginkgo node after %s is declared", pkg.what(reader), v.Name)
	}
	beforeEach := "BeforeEach"
	if sel, ok := container.call.Fun.(*ast.SelectorExpr); ok {
		beforeEach = exprText(pkg.fset, sel.X) + ".BeforeEach"
	}
	statement := fmt.Sprintf("// Other specs reassign %s: each spec here starts from its declared value.\n%s(func() {\n%s = %s\n})\n\n", v.Name, beforeEach, v.Name, v.Value)
	f := container.file
	offset := pkg.fset.Position(lineStart(pkg.fset, before.Pos())).Offset
	out := append([]byte{}, f.src[:offset]...)
	out = append(out, statement...)
	out = append(out, f.src[offset:]...)
	formatted, err := format.Source(out)
	if err != nil {
		return resetPatch{}, fmt.Errorf("the patched %s does not format: %v", f.path, err)
	}
	return resetPatch{File: f.path, Source: string(formatted), Statement: statement, Name: v.Name, Line: pkg.fset.Position(before.Pos()).Line}, nil
}

func lineStart(fset *token.FileSet, pos token.Pos) token.Pos {
	file := fset.File(pos)
	return file.LineStart(file.Line(pos))
}
