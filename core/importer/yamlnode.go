package importer

// Generic reading of yaml.v3 node trees: positions, aliases and merge keys,
// scalars, comments, and rendering a subtree back to YAML text.

import (
	"bytes"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"gopkg.in/yaml.v3"
)

// yamlError gives a YAML syntax error the line it is on. yaml.v3 leaves the
// line out for problems on the first line and for bytes its reader rejects.
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func yamlError(src []byte, filename string, err error) error {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Error{File: filename, Line: line, Msg: "invalid YAML: " + m[2]}
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	line := 1
	if off := badByte(src); off >= 0 {
		line += bytes.Count(src[:off], []byte("\n"))
	}
	return &Error{File: filename, Line: line, Msg: "invalid YAML: " + msg}
}

// badByte returns the offset of the first byte a YAML reader refuses
// (invalid UTF-8 or a control character), or -1.
func badByte(src []byte) int {
	for off := 0; off < len(src); {
		r, size := utf8.DecodeRune(src[off:])
		if r == utf8.RuneError && size <= 1 {
			return off
		}
		if (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || r == 0x7f ||
			(r >= 0x80 && r < 0xa0 && r != 0x85) || r == 0xfffe || r == 0xffff {
			return off
		}
		off += size
	}
	return -1
}

func (p *parser) errAt(line, col int, format string, args ...any) error {
	return &Error{File: p.file, Line: line, Column: col, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) errorf(n *yaml.Node, format string, args ...any) error {
	return p.errAt(n.Line, n.Column, format, args...)
}

func (p *parser) warnf(n *yaml.Node, format string, args ...any) {
	p.warnings = append(p.warnings, position(p.file, n.Line, n.Column)+": "+fmt.Sprintf(format, args...))
}

func (p *parser) rng(n *yaml.Node) hcl.Range {
	pos := hcl.Pos{Line: n.Line, Column: n.Column}
	return hcl.Range{Filename: p.file, Start: pos, End: pos}
}

func (p *parser) spend(n *yaml.Node) error {
	p.budget--
	if p.budget < 0 {
		return p.errorf(n, "document too large: more than %d YAML nodes once aliases are expanded", maxNodes)
	}
	return nil
}

// resolve follows aliases to the node they name.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; i < 16 && n != nil && n.Kind == yaml.AliasNode && n.Alias != nil; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	n = resolve(n)
	return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null") || n.Kind == 0
}

func kindName(n *yaml.Node) string {
	switch resolve(n).Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("the value %q", resolve(n).Value)
	default:
		return "something else"
	}
}

// mapping returns the key/value pairs of a mapping node in order, with YAML
// merge keys (<<) expanded. A key given twice is an error: YAML loaders
// disagree on which one wins.
func (p *parser) mapping(n *yaml.Node, what string) ([]pair, error) {
	if err := p.spend(n); err != nil {
		return nil, err
	}
	r := resolve(n)
	if r.Kind != yaml.MappingNode {
		return nil, p.errorf(n, "%s must be a mapping of keys to values, not %s", what, kindName(n))
	}
	var own, merged []pair
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(r.Content); i += 2 {
		k, v := r.Content[i], r.Content[i+1]
		kr := resolve(k)
		if kr.Kind != yaml.ScalarNode {
			return nil, p.errorf(k, "%s has a key that is %s; keys must be plain names", what, kindName(k))
		}
		if kr.Tag == "!!merge" {
			targets := []*yaml.Node{v}
			if rv := resolve(v); rv.Kind == yaml.SequenceNode {
				targets = rv.Content
			}
			for _, t := range targets {
				ps, err := p.mapping(t, "a merged mapping (<<)")
				if err != nil {
					return nil, err
				}
				merged = append(merged, ps...)
			}
			continue
		}
		if prev := seen[kr.Value]; prev != nil {
			return nil, p.errorf(k, "key %q appears twice in %s (first on line %d); keep one", kr.Value, what, prev.Line)
		}
		seen[kr.Value] = k
		own = append(own, pair{name: kr.Value, key: k, val: v})
	}
	for _, m := range merged {
		if seen[m.name] == nil {
			seen[m.name] = m.key
			own = append(own, m)
		}
	}
	return own, nil
}

// text returns a scalar's text; ok is false for null or absent values.
func (p *parser) text(n *yaml.Node, what string) (s string, ok bool, err error) {
	if isNull(n) {
		return "", false, nil
	}
	if r := resolve(n); r.Kind == yaml.ScalarNode {
		return r.Value, true, nil
	}
	return "", false, p.errorf(n, "%s must be a single value, not %s", what, kindName(n))
}

func (p *parser) boolean(n *yaml.Node, what string) (bool, error) {
	s, ok, err := p.text(n, what)
	if err != nil || !ok {
		return false, err
	}
	switch strings.ToLower(s) {
	case "true", "yes", "on", "y", "t", "1":
		return true, nil
	case "false", "no", "off", "n", "f", "0":
		return false, nil
	}
	return false, p.errorf(n, "%s must be true or false, not %q", what, s)
}

func (p *parser) integer(n *yaml.Node, what string) (int, bool, error) {
	s, ok, err := p.text(n, what)
	if err != nil || !ok {
		return 0, false, err
	}
	if i, err := strconv.ParseInt(s, 0, 32); err == nil {
		return int(i), true, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && f == math.Trunc(f) && math.Abs(f) <= math.MaxInt32 {
		return int(f), true, nil
	}
	return 0, false, p.errorf(n, "%s must be a whole number, not %q", what, s)
}

// list reads a list of single values.
func (p *parser) list(n *yaml.Node, what string) ([]string, error) {
	if isNull(n) {
		return nil, nil
	}
	r := resolve(n)
	if r.Kind != yaml.SequenceNode {
		return nil, p.errorf(n, "%s must be a list such as [a, b], not %s", what, kindName(n))
	}
	out := make([]string, 0, len(r.Content))
	for _, item := range r.Content {
		if err := p.spend(item); err != nil {
			return nil, err
		}
		s, ok, err := p.text(item, "an entry of "+what)
		if err != nil {
			return nil, err
		}
		if !ok || s == "" {
			return nil, p.errorf(item, "%s has an empty entry", what)
		}
		out = append(out, s)
	}
	return out, nil
}

// items reads a list of nodes (collections, fields, references).
func (p *parser) items(n *yaml.Node, what string) ([]*yaml.Node, error) {
	if isNull(n) {
		return nil, nil
	}
	r := resolve(n)
	if r.Kind != yaml.SequenceNode {
		return nil, p.errorf(n, "%s must be a list (lines starting with '- '), not %s", what, kindName(n))
	}
	return r.Content, nil
}

// own appends the comments written on n itself.
func own(dst []string, nodes ...*yaml.Node) []string {
	for _, n := range nodes {
		if n == nil {
			continue
		}
		for _, c := range []string{n.HeadComment, n.LineComment, n.FootComment} {
			if c = commentText(c); c != "" {
				dst = append(dst, c)
			}
		}
	}
	return dst
}

// subtree appends the comments written anywhere under n. Aliases are not
// followed: their comments belong where the anchor is.
func (p *parser) subtree(dst []string, n *yaml.Node) ([]string, error) {
	if n == nil {
		return dst, nil
	}
	if err := p.spend(n); err != nil {
		return dst, err
	}
	dst = own(dst, n)
	for _, c := range n.Content {
		var err error
		if dst, err = p.subtree(dst, c); err != nil {
			return dst, err
		}
	}
	return dst, nil
}

// commentText strips the comment markers of a YAML comment block.
func commentText(c string) string {
	if c == "" {
		return ""
	}
	lines := strings.Split(c, "\n")
	for i, l := range lines {
		l = strings.TrimSpace(l)
		l = strings.TrimPrefix(l, "#")
		l = strings.TrimPrefix(l, " ")
		lines[i] = l
	}
	return strings.TrimRight(strings.Join(lines, "\n"), "\n")
}

// keep records a key Lethe has no attribute for as a note: its comments,
// then the key and value as YAML, the first line after prefix.
func (p *parser) keep(dst []string, kv pair, prefix string) ([]string, error) {
	dst = own(dst, kv.key)
	dst, err := p.subtree(dst, kv.val)
	if err != nil {
		return dst, err
	}
	text, err := p.yamlText(kv)
	if err != nil {
		return dst, err
	}
	return append(dst, prefix+text), nil
}

// yamlText renders key: value back to YAML, without comments or anchors,
// aliases expanded.
func (p *parser) yamlText(kv pair) (string, error) {
	limit := maxKeptNodes
	key, err := p.plain(kv.key, 0, &limit)
	if err != nil {
		return "", err
	}
	val, err := p.plain(kv.val, 0, &limit)
	if err != nil {
		return "", err
	}
	doc := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{key, val}}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := encode(enc, doc); err != nil {
		// The encoder refuses a few exotic scalars; say what it was instead.
		return fmt.Sprintf("%s: %q", key.Value, val.Value), nil
	}
	return strings.TrimRight(buf.String(), "\n"), nil
}

// encode runs the YAML encoder, turning a panic inside it into an error:
// the nodes come from untrusted input.
func encode(enc *yaml.Encoder, n *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("encode YAML: %v", r)
		}
	}()
	if err := enc.Encode(n); err != nil {
		return err
	}
	return enc.Close()
}

// plain copies n without comments and anchors, with aliases expanded.
func (p *parser) plain(n *yaml.Node, depth int, limit *int) (*yaml.Node, error) {
	if err := p.spend(n); err != nil {
		return nil, err
	}
	if *limit--; *limit < 0 {
		return nil, p.errorf(n, "this value is too large to keep as a comment (more than %d YAML nodes once aliases are expanded); remove it or shorten it", maxKeptNodes)
	}
	if depth > 100 {
		return nil, p.errorf(n, "value nested too deeply")
	}
	r := resolve(n)
	out := &yaml.Node{Kind: r.Kind, Style: r.Style, Tag: r.Tag, Value: r.Value}
	if out.Kind == yaml.AliasNode || out.Kind == 0 {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}, nil
	}
	for _, c := range r.Content {
		cc, err := p.plain(c, depth+1, limit)
		if err != nil {
			return nil, err
		}
		out.Content = append(out.Content, cc)
	}
	return out, nil
}
