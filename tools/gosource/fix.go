package main

// The fix subcommands: where a spec deletes an object without waiting for it to be gone, and the
// patched file that waits, in the suite's own idiom. Read with Go's parser, printed with go/format.
//
//	gosource deletes FILE_OR_DIR...
//	  {"deletes": [{"file", "line", "end", "stmt": {"start","end"}, "client", "ctx", "object",
//	                "objectFixable", "names", "types", "waited", "func", "timeout", "interval"}]}
//	gosource wait-after-delete FILE LINE [SECONDS]
//	  (SECONDS: the bound of the wait when the package declares no timeout variable)
//	  {"source": "...the whole file, patched and gofmt'ed...", "statement": "...", "imports": [...]}
//	  or {"error": "why no patch"} with exit status 3.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/printer"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

const (
	apierrorsPath = "k8s.io/apimachinery/pkg/api/errors"
	clientPath    = "sigs.k8s.io/controller-runtime/pkg/client"
	gomegaPath    = "github.com/onsi/gomega"
)

// deleteCall is one `<client>.Delete(<ctx>, <obj>, ...)` call.
type deleteCall struct {
	File string `json:"file"`
	Line int    `json:"line"`
	End  int    `json:"end"`
	// The statement of its block that holds it.
	Stmt lines `json:"stmt"`
	// The last statement of that block that still uses the object: the wait goes after it, so
	// what the spec checks while the object drains still runs.
	WaitAfter int    `json:"waitAfter"`
	Client    string `json:"client"`
	Ctx       string `json:"ctx"`
	Object    string `json:"object"`
	// The object is a plain reference (x, &x, s.x): the wait can Get it again.
	ObjectFixable bool `json:"objectFixable"`
	// String literals in the object's definition (its name, or the helper arguments that name it).
	Names []string `json:"names"`
	// Type names in the object's definition (&v1.ModelCache{...} gives ModelCache).
	Types []string `json:"types"`
	// A later statement of the same block waits for NotFound (directly or through a package helper).
	Waited bool   `json:"waited"`
	Func   string `json:"func"`
	// The suite's Eventually timeout and interval variables in scope there, "" when none.
	Timeout  string `json:"timeout"`
	Interval string `json:"interval"`
}

// subcommands run instead of the structure listing when their name is the first argument.
var subcommands = map[string]func(args []string) int{
	"deletes":           runDeletes,
	"wait-after-delete": runWaitAfterDelete,
}

func runDeletes(args []string) int {
	fset := token.NewFileSet()
	out := struct {
		Deletes []deleteCall `json:"deletes"`
	}{Deletes: []deleteCall{}}
	for _, arg := range args {
		paths, err := goFiles(arg)
		if err != nil {
			fmt.Fprintf(os.Stderr, "gosource deletes: %s: %v\n", arg, err)
			return 1
		}
		pkg := parsePackage(fset, paths)
		for _, f := range pkg.files {
			out.Deletes = append(out.Deletes, deletesIn(fset, f, pkg)...)
		}
	}
	return printJSON(out)
}

func runWaitAfterDelete(args []string) int {
	if len(args) != 2 && len(args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: gosource wait-after-delete FILE LINE [SECONDS]")
		return 2
	}
	seconds := 0
	if len(args) == 3 {
		n, err := strconv.Atoi(args[2])
		if err != nil || n < 0 {
			fmt.Fprintf(os.Stderr, "gosource wait-after-delete: SECONDS must be a whole number, got %q\n", args[2])
			return 2
		}
		seconds = n
	}
	line, err := strconv.Atoi(args[1])
	if err != nil {
		fmt.Fprintf(os.Stderr, "gosource wait-after-delete: LINE must be a number, got %q\n", args[1])
		return 2
	}
	src, err := os.ReadFile(args[0])
	if err != nil {
		fmt.Fprintf(os.Stderr, "gosource wait-after-delete: %v\n", err)
		return 1
	}
	patched, err := waitAfterDelete(args[0], src, line, seconds)
	if err != nil {
		printJSON(map[string]string{"error": err.Error()})
		return 3
	}
	return printJSON(patched)
}

func printJSON(v any) int {
	if err := json.NewEncoder(os.Stdout).Encode(v); err != nil {
		fmt.Fprintf(os.Stderr, "gosource: %v\n", err)
		return 1
	}
	return 0
}

// goPackage is the files of one directory with what their specs share: package-level names and helpers.
type goPackage struct {
	files   []*fileAST
	values  map[string]bool          // package-level var and const names
	helpers map[string]*ast.FuncDecl // package-level plain functions
}

type fileAST struct {
	path string
	ast  *ast.File
}

func parsePackage(fset *token.FileSet, paths []string) *goPackage {
	pkg := &goPackage{values: map[string]bool{}, helpers: map[string]*ast.FuncDecl{}}
	for _, path := range paths {
		f, err := parser.ParseFile(fset, path, nil, parser.ParseComments|parser.SkipObjectResolution)
		if f == nil || err != nil {
			continue
		}
		pkg.files = append(pkg.files, &fileAST{path: path, ast: f})
		for _, decl := range f.Decls {
			switch d := decl.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil {
					pkg.helpers[d.Name.Name] = d
				}
			case *ast.GenDecl:
				for _, spec := range d.Specs {
					if vs, ok := spec.(*ast.ValueSpec); ok {
						for _, name := range vs.Names {
							pkg.values[name.Name] = true
						}
					}
				}
			}
		}
	}
	return pkg
}

// deletesIn finds every Delete call of a file with its enclosing blocks (innermost last).
func deletesIn(fset *token.FileSet, f *fileAST, pkg *goPackage) []deleteCall {
	var found []deleteCall
	line := func(pos token.Pos) int { return fset.Position(pos).Line }
	var stack []ast.Node
	var within string
	var visit func(n ast.Node) bool
	visit = func(n ast.Node) bool {
		if n == nil {
			stack = stack[:len(stack)-1]
			return true
		}
		stack = append(stack, n)
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok || sel.Sel.Name != "Delete" || len(call.Args) < 2 {
			return true
		}
		block, stmt := enclosingStatement(stack)
		if block == nil {
			return true
		}
		d := deleteCall{
			File: f.path, Line: line(call.Pos()), End: line(call.End()),
			Stmt:   lines{Start: line(stmt.Pos()), End: line(stmt.End())},
			Client: exprText(fset, sel.X), Ctx: exprText(fset, call.Args[0]), Object: exprText(fset, call.Args[1]),
			ObjectFixable: plainReference(call.Args[1]), Names: []string{}, Types: []string{}, Func: within,
		}
		d.Names, d.Types = literalsIn(append(definitionOf(call.Args[1], stack, call.Pos()), call.Args[1])...)
		d.Waited = waitsFollow(block, stmt, pkg)
		d.WaitAfter = lastUse(fset, block, stmt, rootIdent(call.Args[1]))
		visible := visibleNames(stack, call.Pos(), pkg)
		if visible["timeout"] {
			d.Timeout = "timeout"
		}
		if visible["interval"] {
			d.Interval = "interval"
		}
		found = append(found, d)
		return true
	}
	for _, decl := range f.ast.Decls {
		within = ""
		if fn, ok := decl.(*ast.FuncDecl); ok {
			within = fn.Name.Name
		}
		stack = nil
		ast.Inspect(decl, visit)
	}
	return found
}

// enclosingStatement: the innermost block on the path and its statement that holds the call.
func enclosingStatement(stack []ast.Node) (*ast.BlockStmt, ast.Stmt) {
	for i := len(stack) - 2; i >= 0; i-- {
		if block, ok := stack[i].(*ast.BlockStmt); ok {
			if stmt, ok := stack[i+1].(ast.Stmt); ok {
				return block, stmt
			}
			return nil, nil
		}
	}
	return nil, nil
}

func exprText(fset *token.FileSet, e ast.Expr) string {
	var b bytes.Buffer
	printer.Fprint(&b, fset, e)
	return b.String()
}

// plainReference: an expression the wait can name again without effects: x, &x, s.x, &s.x.
func plainReference(e ast.Expr) bool {
	switch x := e.(type) {
	case *ast.Ident:
		return x.Name != "nil"
	case *ast.SelectorExpr:
		return plainReference(x.X)
	case *ast.UnaryExpr:
		return x.Op == token.AND && plainReference(x.X)
	case *ast.ParenExpr:
		return plainReference(x.X)
	}
	return false
}

// rootIdent: x for x, &x, x.y.
func rootIdent(e ast.Expr) *ast.Ident {
	switch x := e.(type) {
	case *ast.Ident:
		return x
	case *ast.SelectorExpr:
		return rootIdent(x.X)
	case *ast.UnaryExpr:
		return rootIdent(x.X)
	case *ast.ParenExpr:
		return rootIdent(x.X)
	}
	return nil
}

// definitionOf: the value the object's variable was last given before the call, in the blocks
// around it, and what its fields were given after that (w.Name = "gear").
func definitionOf(obj ast.Expr, stack []ast.Node, before token.Pos) []ast.Expr {
	id := rootIdent(obj)
	if id == nil {
		return nil
	}
	var found []ast.Expr
	var declared ast.Expr
	for _, n := range stack {
		block, ok := n.(*ast.BlockStmt)
		if !ok {
			continue
		}
		for _, stmt := range block.List {
			if stmt.Pos() >= before {
				break
			}
			if value := assignedIn(stmt, id.Name); value != nil {
				found = []ast.Expr{value}
			}
			if t := declaredType(stmt, id.Name); t != nil {
				declared = t
			}
			if assign, ok := stmt.(*ast.AssignStmt); ok && len(assign.Lhs) == len(assign.Rhs) {
				for i, lhs := range assign.Lhs {
					if sel, ok := lhs.(*ast.SelectorExpr); ok && rootIdent(sel) != nil && rootIdent(sel).Name == id.Name {
						found = append(found, assign.Rhs[i])
					}
				}
			}
		}
	}
	if len(found) == 0 && len(stack) > 0 {
		// A container's variable is given its value in a BeforeEach: any plain assignment in the declaration.
		ast.Inspect(stack[0], func(n ast.Node) bool {
			if assign, ok := n.(*ast.AssignStmt); ok && assign.Tok == token.ASSIGN && len(assign.Lhs) == len(assign.Rhs) {
				for i, lhs := range assign.Lhs {
					if x, ok := lhs.(*ast.Ident); ok && x.Name == id.Name {
						found = append(found, assign.Rhs[i])
					}
				}
			}
			return true
		})
	}
	if declared != nil {
		found = append(found, declared)
	}
	return found
}

// declaredType: T of `var name T`.
func declaredType(stmt ast.Stmt, name string) ast.Expr {
	if decl, ok := stmt.(*ast.DeclStmt); ok {
		if gen, ok := decl.Decl.(*ast.GenDecl); ok {
			for _, spec := range gen.Specs {
				if vs, ok := spec.(*ast.ValueSpec); ok && vs.Type != nil {
					for _, id := range vs.Names {
						if id.Name == name {
							return vs.Type
						}
					}
				}
			}
		}
	}
	return nil
}

func assignedIn(stmt ast.Stmt, name string) ast.Expr {
	switch s := stmt.(type) {
	case *ast.AssignStmt:
		if len(s.Lhs) == len(s.Rhs) {
			for i, lhs := range s.Lhs {
				if id, ok := lhs.(*ast.Ident); ok && id.Name == name {
					return s.Rhs[i]
				}
			}
		}
	case *ast.DeclStmt:
		if gen, ok := s.Decl.(*ast.GenDecl); ok {
			for _, spec := range gen.Specs {
				if vs, ok := spec.(*ast.ValueSpec); ok {
					for i, id := range vs.Names {
						if id.Name == name && i < len(vs.Values) {
							return vs.Values[i]
						}

					}
				}
			}
		}
	}
	return nil
}

// literalsIn: the string literals and the type names of composite literals (or of a declared type) under the expressions.
func literalsIn(exprs ...ast.Expr) ([]string, []string) {
	names, types := []string{}, []string{}
	for _, e := range exprs {
		n, t := literalsOf(e)
		names = append(names, n...)
		types = append(types, t...)
	}
	return unique(names), unique(types)
}

func literalsOf(e ast.Expr) ([]string, []string) {
	names, types := []string{}, []string{}
	ast.Inspect(e, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.BasicLit:
			if x.Kind == token.STRING {
				if s, err := strconv.Unquote(x.Value); err == nil {
					names = append(names, s)
				}
			}
		case *ast.CompositeLit:
			if name := literalType(x.Type); name != "" {
				types = append(types, name)
			}
		}
		return true
	})
	// A type named in a declaration: var mc v1.ModelCache.
	if sel, ok := e.(*ast.SelectorExpr); ok {
		if _, isPkg := sel.X.(*ast.Ident); isPkg {
			types = append(types, sel.Sel.Name)
		}
	}
	return names, types
}

// literalType: ModelCache for v1.ModelCache, *v1.ModelCache and ModelCache.
func literalType(e ast.Expr) string {
	switch t := e.(type) {
	case *ast.SelectorExpr:
		return t.Sel.Name
	case *ast.StarExpr:
		return literalType(t.X)
	case *ast.Ident:
		return t.Name
	}
	return ""
}

// waitsFollow: a later statement of the block waits for the object to be gone (IsNotFound), or
// calls a package helper that does.
func waitsFollow(block *ast.BlockStmt, stmt ast.Stmt, pkg *goPackage) bool {
	after := false
	for _, s := range block.List {
		if s == stmt {
			after = true
			continue
		}
		if after && waitsForNotFound(s, pkg, 2) {
			return true
		}
	}
	return false
}

// lastUse: the end line of the last statement from stmt on that names the object's variable.
func lastUse(fset *token.FileSet, block *ast.BlockStmt, stmt ast.Stmt, id *ast.Ident) int {
	end := fset.Position(stmt.End()).Line
	if id == nil {
		return end
	}
	after := false
	for _, s := range block.List {
		if s == stmt {
			after = true
			continue
		}
		if !after {
			continue
		}
		uses := false
		ast.Inspect(s, func(n ast.Node) bool {
			if x, ok := n.(*ast.Ident); ok && x.Name == id.Name {
				uses = true
			}
			return !uses
		})
		if uses {
			end = fset.Position(s.End()).Line
		}
	}
	return end
}

func waitsForNotFound(n ast.Node, pkg *goPackage, depth int) bool {
	waits := false
	ast.Inspect(n, func(x ast.Node) bool {
		if waits {
			return false
		}
		switch e := x.(type) {
		case *ast.SelectorExpr:
			if e.Sel.Name == "IsNotFound" {
				waits = true
			}
		case *ast.Ident:
			if e.Name == "IsNotFound" {
				waits = true
			}
		case *ast.CallExpr:
			if id, ok := e.Fun.(*ast.Ident); ok && depth > 0 {
				if helper := pkg.helpers[id.Name]; helper != nil && helper.Body != nil && waitsForNotFound(helper.Body, pkg, depth-1) {
					waits = true
				}
			}
		}
		return true
	})
	return waits
}

// visibleNames: the package's values and those declared in the blocks around pos before it.
func visibleNames(stack []ast.Node, pos token.Pos, pkg *goPackage) map[string]bool {
	names := map[string]bool{}
	for name := range pkg.values {
		names[name] = true
	}
	for _, n := range stack {
		var params *ast.FieldList
		switch x := n.(type) {
		case *ast.FuncLit:
			params = x.Type.Params
		case *ast.FuncDecl:
			params = x.Type.Params
		case *ast.BlockStmt:
			for _, stmt := range x.List {
				if stmt.Pos() >= pos {
					break
				}
				for _, name := range declaredIn(stmt) {
					names[name] = true
				}
			}
		}
		if params != nil {
			for _, field := range params.List {
				for _, id := range field.Names {
					names[id.Name] = true
				}
			}
		}
	}
	return names
}

func declaredIn(stmt ast.Stmt) []string {
	var out []string
	switch s := stmt.(type) {
	case *ast.AssignStmt:
		if s.Tok == token.DEFINE {
			for _, lhs := range s.Lhs {
				if id, ok := lhs.(*ast.Ident); ok {
					out = append(out, id.Name)
				}
			}
		}
	case *ast.DeclStmt:
		if gen, ok := s.Decl.(*ast.GenDecl); ok {
			for _, spec := range gen.Specs {
				if vs, ok := spec.(*ast.ValueSpec); ok {
					for _, id := range vs.Names {
						out = append(out, id.Name)
					}
				}
			}
		}
	}
	return out
}

// patchedFile is the answer of wait-after-delete.
type patchedFile struct {
	Source    string   `json:"source"`
	Statement string   `json:"statement"`
	Imports   []string `json:"imports"`
}

// waitAfterDelete inserts, after the statement holding the Delete call on line, a wait until a Get
// of the same object with the same client and context says NotFound, with the imports it needs.
// The wait takes the suite's timeout and interval variables; without them, `seconds` (when not 0)
// bounds it, since a finalizer's drain may outlast Gomega's default.
func waitAfterDelete(path string, src []byte, line int, seconds int) (patchedFile, error) {
	fset := token.NewFileSet()
	paths, err := goFiles(dirOf(path))
	if err != nil {
		paths = []string{path}
	}
	pkg := parsePackage(fset, paths)
	var target *fileAST
	for _, f := range pkg.files {
		if sameFile(f.path, path) {
			target = f
		}
	}
	if target == nil {
		f, err := parser.ParseFile(fset, path, src, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			return patchedFile{}, fmt.Errorf("%s does not parse: %v", path, err)
		}
		target = &fileAST{path: path, ast: f}
	}
	var call *deleteCall
	for _, d := range deletesIn(fset, target, pkg) {
		if d.Line == line {
			d := d
			call = &d
			break
		}
	}
	if call == nil {
		return patchedFile{}, fmt.Errorf("no Delete call on line %d of %s", line, path)
	}
	if call.Waited {
		return patchedFile{}, fmt.Errorf("the Delete on line %d already waits for NotFound", line)
	}
	if !call.ObjectFixable {
		return patchedFile{}, fmt.Errorf("the Delete on line %d deletes %s, which cannot be named again to wait for it: bind it to a variable first", line, call.Object)
	}
	imports := importNames(target.ast)
	var added []string
	nameFor := func(path, preferred string) string {
		if name, ok := imports[path]; ok {
			return name
		}
		added = append(added, path)
		imports[path] = preferred
		return preferred
	}
	gomega := nameFor(gomegaPath, ".")
	apierrors := nameFor(apierrorsPath, "apierrors")
	clientPkg := nameFor(clientPath, "client")
	qualified := func(pkg, name string) string {
		if pkg == "." {
			return name
		}
		return pkg + "." + name
	}
	get := fmt.Sprintf("%s.Get(%s, %s(%s), %s)", call.Client, call.Ctx, qualified(clientPkg, "ObjectKeyFromObject"), call.Object, call.Object)
	waitArgs, bound := "", ""
	if call.Timeout != "" {
		waitArgs += ", " + call.Timeout
		if call.Interval != "" {
			waitArgs += ", " + call.Interval
		}
	} else if seconds > 0 {
		bound = fmt.Sprintf(".WithTimeout(%d * %s)", seconds, qualified(nameFor("time", "time"), "Second"))
	}
	statement := fmt.Sprintf("%s(func() bool {\nreturn %s(%s)\n}%s)%s.Should(%s())",
		qualified(gomega, "Eventually"), qualified(apierrors, "IsNotFound"), get, waitArgs, bound, qualified(gomega, "BeTrue"))

	// Edits by byte offset, applied from the end so earlier offsets stay true; gofmt then lays it out.
	edits := []edit{{at: offsetOfLineEnd(fset, src, call.WaitAfter), text: "\n" + statement}}
	var specs []importSpec
	for _, path := range added {
		name := imports[path]
		spec := strconv.Quote(path)
		if name != "" && name != defaultName(path) {
			spec = name + " " + spec
		}
		specs = append(specs, importSpec{path: path, text: spec})
	}
	edits = append(edits, importEdits(fset, target.ast, src, specs)...)
	sort.SliceStable(edits, func(i, j int) bool { return edits[i].at > edits[j].at })
	out := append([]byte{}, src...)
	for _, e := range edits {
		end := e.at
		if e.end > e.at {
			end = e.end
		}
		out = append(out[:e.at], append([]byte(e.text), out[end:]...)...)
	}
	formatted, err := format.Source(out)
	if err != nil {
		return patchedFile{}, fmt.Errorf("the patched %s does not format: %v", path, err)
	}
	return patchedFile{Source: string(formatted), Statement: statement, Imports: orEmpty(added)}, nil
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// edit replaces src[at:end] with text (end 0: inserts at at).
type edit struct {
	at   int
	end  int
	text string
}

type importSpec struct {
	path string
	text string
}

// importEdits: each new import next to one of its kind in the file's import block (so gofmt sorts
// it into that group); a file with a single unparenthesized import gets a block holding it and them.
func importEdits(fset *token.FileSet, f *ast.File, src []byte, specs []importSpec) []edit {
	if len(specs) == 0 {
		return nil
	}
	offset := func(pos token.Pos) int { return fset.Position(pos).Offset }
	var block *ast.GenDecl
	for _, decl := range f.Decls {
		if gen, ok := decl.(*ast.GenDecl); ok && gen.Tok == token.IMPORT {
			block = gen
			break
		}
	}
	lines := func(existing string) string {
		text := "import (\n" + existing
		for _, spec := range specs {
			text += "\t" + spec.text + "\n"
		}
		return text + ")"
	}
	if block == nil {
		return []edit{{at: offset(f.Name.End()), text: "\n\n" + lines("") + "\n"}}
	}
	if !block.Lparen.IsValid() {
		existing := string(src[offset(block.Specs[0].Pos()):offset(block.Specs[0].End())])
		return []edit{{at: offset(block.Pos()), end: offset(block.End()), text: lines("\t" + existing + "\n")}}
	}
	var edits []edit
	for _, spec := range specs {
		edits = append(edits, edit{at: offset(importNeighbour(block, spec.path)), text: "\n\t" + spec.text})
	}
	return edits
}

// importNeighbour: where a new import goes in a block: after the import sharing the longest path
// prefix (k8s.io/ beside k8s.io/, sigs.k8s.io/ beside sigs.k8s.io/), else at its end.
func importNeighbour(block *ast.GenDecl, path string) token.Pos {
	var best *ast.ImportSpec
	bestLen := 0
	for _, s := range block.Specs {
		is := s.(*ast.ImportSpec)
		other, _ := strconv.Unquote(is.Path.Value)
		n := commonPrefix(other, path)
		if !strings.Contains(other[:n], ".") {
			n = 0
		}
		// sigs.k8s.io/ and k8s.io/ share a group in Kubernetes projects.
		if n == 0 && strings.HasSuffix(domainOf(other), "k8s.io") && strings.HasSuffix(domainOf(path), "k8s.io") {
			n = 1
		}
		if n > bestLen {
			best, bestLen = is, n
		}
	}
	if best != nil {
		return best.End()
	}
	return block.Specs[len(block.Specs)-1].End()
}

func commonPrefix(a, b string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// importNames: each imported path and the name the file uses for it ("." for a dot import).
func importNames(f *ast.File) map[string]string {
	names := map[string]string{}
	for _, is := range f.Imports {
		path, _ := strconv.Unquote(is.Path.Value)
		if is.Name != nil {
			names[path] = is.Name.Name
		} else {
			names[path] = defaultName(path)
		}
	}
	return names
}

// defaultName: the package name an import path gives without an alias (gomega's v2 suffix aside).
func defaultName(path string) string {
	parts := strings.Split(path, "/")
	last := parts[len(parts)-1]
	if len(parts) > 1 && len(last) > 1 && last[0] == 'v' && strings.Trim(last[1:], "0123456789") == "" {
		last = parts[len(parts)-2]
	}
	return last
}

func offsetOfLineEnd(fset *token.FileSet, src []byte, line int) int {
	offset := 0
	for l := 1; l < line && offset < len(src); offset++ {
		if src[offset] == '\n' {
			l++
		}
	}
	for offset < len(src) && src[offset] != '\n' {
		offset++
	}
	return offset
}

func dirOf(path string) string { return filepath.Dir(path) }

func sameFile(a, b string) bool {
	absA, errA := filepath.Abs(a)
	absB, errB := filepath.Abs(b)
	return errA == nil && errB == nil && absA == absB
}

func domainOf(path string) string {
	return strings.SplitN(path, "/", 2)[0]
}
