package config

import (
	"bytes"
	"fmt"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// scanBytes refuses sources that would make the HCL parser or evaluator
// recurse without bound (hashicorp/hcl#809: a deep enough nesting overflows
// the goroutine stack, which no recover can catch). It runs over the raw
// bytes before anything is lexed (the lexer's tokens take a few hundred
// bytes each, so a megabyte of brackets is refused cheaply), following the
// lexer's modes: code, quoted strings with escapes, heredocs, comments and
// template sequences. It counts:
//
//   - nesting of braces, brackets, parentheses, quoted strings, heredocs,
//     template sequences and template if/for directives (MaxNesting);
//   - operator characters chained in one expression, which bounds unary
//     runs such as "!!!!x", conditional chains, binary chains (evaluated
//     recursively) and traversal steps (MaxOperators). Items of lists,
//     objects and bodies count separately.
//
// It returns nil or a diagnostic.
func scanBytes(src []byte, filename string) *hcl.Diagnostic {
	const (
		top byte = iota
		brace
		brack
		paren
		interp
		quote
		heredoc
	)
	type frame struct {
		kind   byte
		chain  int
		marker []byte // heredoc end marker
	}
	stack := []frame{{kind: top}}
	directives := 0
	fail := func(i int, summary, detail string) *hcl.Diagnostic {
		p := offsetPos(src, i)
		return &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  summary,
			Detail:   detail,
			Subject:  &hcl.Range{Filename: filename, Start: p, End: hcl.Pos{Line: p.Line, Column: p.Column + 1, Byte: p.Byte + 1}},
		}
	}
	push := func(i int, f frame) *hcl.Diagnostic {
		stack = append(stack, f)
		if len(stack)-1+directives > MaxNesting {
			return fail(i, "Nesting too deep", fmt.Sprintf("This file nests braces, brackets, parentheses, strings or templates more than %d levels deep; "+
				"Lethe refuses it before parsing. Flatten the structure.", MaxNesting))
		}
		return nil
	}
	// openTemplate handles "${" and "%{" at i inside a string; it returns
	// the index of the last byte consumed.
	openTemplate := func(i int) (int, *hcl.Diagnostic) {
		c := src[i]
		if i+2 < len(src) && src[i+1] == c && src[i+2] == '{' {
			return i + 2, nil // "$${" and "%%{" are literal
		}
		if i+1 < len(src) && src[i+1] == '{' {
			if c == '%' {
				j := i + 2
				for j < len(src) && (src[j] == '~' || src[j] == ' ' || src[j] == '\t') {
					j++
				}
				k := j
				for k < len(src) && src[k] >= 'a' && src[k] <= 'z' {
					k++
				}
				switch string(src[j:k]) {
				case "if", "for":
					directives++
				case "endif", "endfor":
					if directives > 0 {
						directives--
					}
				}
			}
			return i + 1, push(i, frame{kind: interp})
		}
		return i, nil
	}
	for i := 0; i < len(src); i++ {
		c := src[i]
		f := &stack[len(stack)-1]
		switch f.kind {
		case quote:
			switch c {
			case '\\':
				i++
			case '"':
				stack = stack[:len(stack)-1]
			case '$', '%':
				var d *hcl.Diagnostic
				if i, d = openTemplate(i); d != nil {
					return d
				}
			}
			continue
		case heredoc:
			if i == 0 || src[i-1] == '\n' {
				j := i
				for j < len(src) && (src[j] == ' ' || src[j] == '\t') {
					j++
				}
				if bytes.HasPrefix(src[j:], f.marker) {
					k := j + len(f.marker)
					if k == len(src) || src[k] == '\n' || (src[k] == '\r' && k+1 < len(src) && src[k+1] == '\n') {
						stack = stack[:len(stack)-1]
						i = k - 1
						continue
					}
				}
			}
			if c == '$' || c == '%' {
				var d *hcl.Diagnostic
				if i, d = openTemplate(i); d != nil {
					return d
				}
			}
			continue
		}
		// Code.
		switch c {
		case '#':
			i = skipLine(src, i)
		case '/':
			if i+1 < len(src) && src[i+1] == '/' {
				i = skipLine(src, i)
			} else if i+1 < len(src) && src[i+1] == '*' {
				end := bytes.Index(src[i+2:], []byte("*/"))
				if end < 0 {
					return nil // unterminated comment: the parser reports it
				}
				i += 2 + end + 1
			} else if f.chain++; f.chain > MaxOperators {
				return fail(i, "Expression too complex", fmt.Sprintf("This expression chains more than %d operators; Lethe refuses it before parsing. Simplify it.", MaxOperators))
			}
		case '"':
			if d := push(i, frame{kind: quote}); d != nil {
				return d
			}
		case '{', '(', '[':
			kind := map[byte]byte{'{': brace, '(': paren, '[': brack}[c]
			if c == '[' {
				f.chain++
			}
			if d := push(i, frame{kind: kind}); d != nil {
				return d
			}
		case '}':
			if f.kind == brace || f.kind == interp {
				stack = stack[:len(stack)-1]
			}
		case ']':
			if f.kind == brack {
				stack = stack[:len(stack)-1]
			}
		case ')':
			if f.kind == paren {
				stack = stack[:len(stack)-1]
			}
		case ',':
			f.chain = 0
		case '\n':
			if f.kind == top || f.kind == brace {
				f.chain = 0
			}
		case '<':
			if m, next, ok := heredocStart(src, i); ok {
				if d := push(i, frame{kind: heredoc, marker: m}); d != nil {
					return d
				}
				i = next - 1
				continue
			}
			fallthrough
		case '!', '-', '+', '*', '%', '>', '=', '&', '|', '?', '.':
			f.chain++
			if f.chain > MaxOperators {
				return fail(i, "Expression too complex", fmt.Sprintf("This expression chains more than %d operators; Lethe refuses it before parsing. Simplify it.", MaxOperators))
			}
		}
	}
	return nil
}

// heredocStart recognises "<<MARKER\n" or "<<-MARKER\n" at i and returns
// the marker and the index after the newline.
func heredocStart(src []byte, i int) ([]byte, int, bool) {
	j := i + 2
	if j > len(src) || src[i+1] != '<' {
		return nil, 0, false
	}
	if j < len(src) && src[j] == '-' {
		j++
	}
	k := j
	for k < len(src) && (isLetter(src[k]) || src[k] == '_' || (k > j && (src[k] == '-' || (src[k] >= '0' && src[k] <= '9')))) {
		k++
	}
	if k == j {
		return nil, 0, false
	}
	switch {
	case k < len(src) && src[k] == '\n':
		return src[j:k], k + 1, true
	case k+1 < len(src) && src[k] == '\r' && src[k+1] == '\n':
		return src[j:k], k + 2, true
	}
	return nil, 0, false
}

func isLetter(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }

// skipLine returns the index of the byte before the next newline, so that
// the newline itself is seen next.
func skipLine(src []byte, i int) int {
	n := bytes.IndexByte(src[i:], '\n')
	if n < 0 {
		return len(src) - 1
	}
	return i + n - 1
}

// offsetPos converts a byte offset into a position (columns count runes).
func offsetPos(src []byte, off int) hcl.Pos {
	if off > len(src) {
		off = len(src)
	}
	line := 1 + bytes.Count(src[:off], []byte{'\n'})
	start := bytes.LastIndexByte(src[:off], '\n') + 1
	return hcl.Pos{Line: line, Column: 1 + utf8.RuneCount(src[start:off]), Byte: off}
}

// tokenCheck applies scanBytes' limits again on the lexer's tokens, which
// see strings, heredocs and comments exactly as the parser does (scanBytes
// approximates, e.g. for heredoc markers in non-ASCII letters). The lexer
// is iterative, so this is safe on any input scanBytes let through. It
// counts:
//
//   - nesting of braces, brackets, parentheses, quoted strings, heredocs,
//     template sequences and template if/for directives (MaxNesting);
//   - operators chained in one expression, including unary runs such as
//     "!!!!x", conditional chains and traversal steps (MaxOperators).
func tokenCheck(src []byte, filename string) *hcl.Diagnostic {
	toks, _ := hclsyntax.LexConfig(src, filename, hcl.InitialPos)
	type frame struct {
		open  hclsyntax.TokenType
		chain int // operators in the current expression of this frame
	}
	stack := []frame{{open: hclsyntax.TokenNil}}
	directives := 0
	closes := map[hclsyntax.TokenType]hclsyntax.TokenType{
		hclsyntax.TokenCBrace:         hclsyntax.TokenOBrace,
		hclsyntax.TokenCBrack:         hclsyntax.TokenOBrack,
		hclsyntax.TokenCParen:         hclsyntax.TokenOParen,
		hclsyntax.TokenCQuote:         hclsyntax.TokenOQuote,
		hclsyntax.TokenCHeredoc:       hclsyntax.TokenOHeredoc,
		hclsyntax.TokenTemplateSeqEnd: hclsyntax.TokenTemplateInterp, // or TemplateControl
	}
	tooDeep := func(t hclsyntax.Token) *hcl.Diagnostic {
		return &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Nesting too deep",
			Detail: fmt.Sprintf("This file nests braces, brackets, parentheses, strings or templates more than %d levels deep; "+
				"Lethe refuses it before parsing. Flatten the structure.", MaxNesting),
			Subject: t.Range.Ptr(),
		}
	}
	for i, t := range toks {
		top := &stack[len(stack)-1]
		switch t.Type {
		case hclsyntax.TokenOBrace, hclsyntax.TokenOBrack, hclsyntax.TokenOParen, hclsyntax.TokenOQuote,
			hclsyntax.TokenOHeredoc, hclsyntax.TokenTemplateInterp, hclsyntax.TokenTemplateControl:
			if t.Type == hclsyntax.TokenOBrack {
				top.chain++ // an index step a[...] chains like an operator
			}
			stack = append(stack, frame{open: t.Type})
			if len(stack)-1+directives > MaxNesting {
				return tooDeep(t)
			}
			if t.Type == hclsyntax.TokenTemplateControl && i+1 < len(toks) && toks[i+1].Type == hclsyntax.TokenIdent {
				switch string(toks[i+1].Bytes) {
				case "if", "for":
					directives++
					if len(stack)-1+directives > MaxNesting {
						return tooDeep(t)
					}
				case "endif", "endfor":
					if directives > 0 {
						directives--
					}
				}
			}
			continue
		case hclsyntax.TokenCBrace, hclsyntax.TokenCBrack, hclsyntax.TokenCParen, hclsyntax.TokenCQuote,
			hclsyntax.TokenCHeredoc, hclsyntax.TokenTemplateSeqEnd:
			want := closes[t.Type]
			if len(stack) > 1 && (top.open == want || (t.Type == hclsyntax.TokenTemplateSeqEnd && top.open == hclsyntax.TokenTemplateControl)) {
				stack = stack[:len(stack)-1]
			}
			continue
		case hclsyntax.TokenComma:
			top.chain = 0
		case hclsyntax.TokenNewline, hclsyntax.TokenComment:
			if !endsLine(t) {
				continue
			}
			// Newlines separate items in bodies and object constructors;
			// inside brackets and parentheses they are insignificant.
			if top.open == hclsyntax.TokenNil || top.open == hclsyntax.TokenOBrace {
				top.chain = 0
			}
		case hclsyntax.TokenPlus, hclsyntax.TokenMinus, hclsyntax.TokenStar, hclsyntax.TokenSlash, hclsyntax.TokenPercent,
			hclsyntax.TokenEqualOp, hclsyntax.TokenNotEqual, hclsyntax.TokenLessThan, hclsyntax.TokenLessThanEq,
			hclsyntax.TokenGreaterThan, hclsyntax.TokenGreaterThanEq, hclsyntax.TokenAnd, hclsyntax.TokenOr,
			hclsyntax.TokenBang, hclsyntax.TokenQuestion, hclsyntax.TokenDot:
			top.chain++
			if top.chain > MaxOperators {
				return &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Expression too complex",
					Detail:   fmt.Sprintf("This expression chains more than %d operators; Lethe refuses it before parsing. Simplify it.", MaxOperators),
					Subject:  t.Range.Ptr(),
				}
			}
		}
	}
	return nil
}
