package detect

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// node is one element of a parsed XML document: OpenCV's FileStorage XML
// is a plain tree of elements holding either children or text.
type node struct {
	name     string
	text     string
	line     int
	children []*node
	path     string // e.g. cascade/stages/_[3]/stageThreshold, for errors
	typeID   string // the type_id attribute, which names the file format
}

// parseXMLTree reads a whole document into a tree. Syntax errors and
// truncation name the element that was open when reading failed.
func parseXMLTree(r io.Reader) (*node, error) {
	d := xml.NewDecoder(r)
	root := &node{name: "", path: ""}
	stack := []*node{root}
	var text strings.Builder
	for {
		tok, err := d.Token()
		if err == io.EOF {
			if len(stack) > 1 {
				return nil, fmt.Errorf("truncated XML: element <%s> (%s) is not closed", stack[len(stack)-1].name, stack[len(stack)-1].path)
			}
			break
		}
		if err != nil {
			line, _ := d.InputPos()
			where := "at top level"
			if len(stack) > 1 {
				top := stack[len(stack)-1]
				where = fmt.Sprintf("inside <%s> (%s)", top.name, top.path)
			}
			var se *xml.SyntaxError
			if errors.As(err, &se) && se.Msg == "unexpected EOF" && len(stack) > 1 {
				top := stack[len(stack)-1]
				return nil, fmt.Errorf("truncated XML on line %d: element <%s> (%s) is not closed", se.Line, top.name, top.path)
			}
			if errors.As(err, &se) {
				return nil, fmt.Errorf("broken XML on line %d %s: %s", se.Line, where, se.Msg)
			}
			return nil, fmt.Errorf("broken XML on line %d %s: %v", line, where, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			parent := stack[len(stack)-1]
			line, _ := d.InputPos()
			n := &node{name: t.Name.Local, line: line}
			for _, a := range t.Attr {
				if a.Name.Local == "type_id" {
					n.typeID = a.Value
				}
			}
			idx := 0
			for _, c := range parent.children {
				if c.name == n.name {
					idx++
				}
			}
			n.path = n.name
			if n.name == "_" {
				n.path = fmt.Sprintf("_[%d]", idx)
			}
			if parent.path != "" {
				n.path = parent.path + "/" + n.path
			}
			parent.children = append(parent.children, n)
			stack = append(stack, n)
			text.Reset()
		case xml.CharData:
			text.Write(t)
		case xml.EndElement:
			n := stack[len(stack)-1]
			if len(n.children) == 0 {
				n.text = strings.TrimSpace(text.String())
			}
			text.Reset()
			stack = stack[:len(stack)-1]
		}
		if len(stack) > 64 {
			return nil, fmt.Errorf("XML nested too deeply at %s", stack[len(stack)-1].path)
		}
	}
	return root, nil
}

// child returns the first child element with the given name, or nil.
func (n *node) child(name string) *node {
	for _, c := range n.children {
		if c.name == name {
			return c
		}
	}
	return nil
}

// need returns the named child or an error naming what is missing.
func (n *node) need(name string) (*node, error) {
	if c := n.child(name); c != nil {
		return c, nil
	}
	return nil, fmt.Errorf("missing <%s> in <%s> (%s, line %d)", name, n.name, n.path, n.line)
}

// items returns the <_> children (OpenCV's sequence elements).
func (n *node) items() []*node {
	var out []*node
	for _, c := range n.children {
		if c.name == "_" {
			out = append(out, c)
		}
	}
	return out
}

func (n *node) errorf(format string, args ...any) error {
	return fmt.Errorf("<%s> (%s, line %d): %s", n.name, n.path, n.line, fmt.Sprintf(format, args...))
}
