package config

import (
	"io"
	"regexp"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// minSecretLen: shorter values are not searched for in messages (they would
// match ordinary words); such secrets are refused where their length is
// checked anyway.
const minSecretLen = 4

const redacted = "(redacted)"

// secretAttributes are the attributes whose values are secret wherever they
// appear outside a config object.
var secretAttributes = map[string]bool{
	"encryption_key":     true,
	"root_client_secret": true,
	"jwt_secret":         true,
	"token":              true,
}

// secretConfigKey matches keys of plugin config objects that probably hold
// secrets. Plugin schemas mark sensitive attributes exactly
// (CheckPluginConfigs adds them); this covers configs not checked yet.
var secretConfigKey = regexp.MustCompile(`(?i)pass|secret|token|key|dsn|credential|private|cert|auth|uri|url|conn`)

// sanitize makes diagnostics safe to show: no value remembered as secret in
// summaries or details, no expression context, and a subject on every one.
func (c *Config) sanitize(diags hcl.Diagnostics) hcl.Diagnostics {
	for _, d := range c.redact(diags) {
		if d.Subject == nil {
			d.Subject = dirRange(c.Dir)
		}
	}
	return diags
}

// redact removes remembered secrets from summaries and details, and the
// expression context.
func (c *Config) redact(diags hcl.Diagnostics) hcl.Diagnostics {
	secrets := c.secretList()
	for _, d := range diags {
		d.Expression, d.EvalContext = nil, nil
		for _, s := range secrets {
			d.Summary = strings.ReplaceAll(d.Summary, s, redacted)
			d.Detail = strings.ReplaceAll(d.Detail, s, redacted)
		}
	}
	return diags
}

// secretList returns the remembered secrets, longest first so that a
// secret containing another is replaced whole.
func (c *Config) secretList() []string {
	out := make([]string, 0, len(c.secrets))
	for s := range c.secrets {
		if len(s) >= minSecretLen {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if len(out[i]) != len(out[j]) {
			return len(out[i]) > len(out[j])
		}
		return out[i] < out[j]
	})
	return out
}

// DiagnosticFiles returns the loaded files that diags refer to, for
// rendering them (hcl.NewDiagnosticTextWriter), with the values of secret
// attributes masked by '*' byte for byte, so that positions stay right.
func (c *Config) DiagnosticFiles(diags hcl.Diagnostics) map[string]*hcl.File {
	out := map[string]*hcl.File{}
	for _, d := range diags {
		for _, r := range []*hcl.Range{d.Subject, d.Context} {
			if r == nil || out[r.Filename] != nil {
				continue
			}
			if f := c.files[r.Filename]; f != nil {
				out[r.Filename] = &hcl.File{Body: f.Body, Bytes: c.redactSource(f.Bytes, r.Filename)}
			}
		}
	}
	return out
}

// WriteDiagnostics renders diags like HCL does, with source snippets whose
// secrets are masked. diags may come from elsewhere too (graph.Build).
func (c *Config) WriteDiagnostics(w io.Writer, diags hcl.Diagnostics, width uint, color bool) error {
	diags = c.redact(diags)
	return hcl.NewDiagnosticTextWriter(w, c.DiagnosticFiles(diags), width, color).WriteDiagnostics(diags)
}

// redactSource masks the values of secret attributes in src: the known
// secret attributes anywhere outside config objects, and inside config
// objects the keys a plugin schema marks sensitive or whose names look
// secret. It works on the lexer's tokens, so it also masks lines that do
// not parse.
func (c *Config) redactSource(src []byte, filename string) []byte {
	if src == nil {
		return nil
	}
	toks, _ := hclsyntax.LexConfig(src, filename, hcl.InitialPos)
	out := append([]byte(nil), src...)
	next := func(i int) int { // index of the next token that is not a comment
		for i++; i < len(toks) && toks[i].Type == hclsyntax.TokenComment; i++ {
		}
		return i
	}
	depth := 0
	configDepth := -1 // depth inside the config object being read, or -1
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if opens(t.Type) {
			depth++
			continue
		}
		if closes(t.Type) {
			depth--
			if configDepth >= 0 && depth < configDepth {
				configDepth = -1
			}
			continue
		}
		var name string
		j := -1
		switch {
		case t.Type == hclsyntax.TokenIdent:
			name, j = string(t.Bytes), next(i)
		case t.Type == hclsyntax.TokenQuotedLit && i > 0 && toks[i-1].Type == hclsyntax.TokenOQuote:
			// A quoted key: "password" = ...
			if k := next(i); k < len(toks) && toks[k].Type == hclsyntax.TokenCQuote {
				name, j = string(t.Bytes), next(k)
			}
		}
		if j < 0 || j >= len(toks) || (toks[j].Type != hclsyntax.TokenEqual && toks[j].Type != hclsyntax.TokenColon) {
			continue
		}
		inConfig := configDepth >= 0
		if name == "config" && !inConfig {
			if k := next(j); k < len(toks) && toks[k].Type == hclsyntax.TokenOBrace {
				configDepth = depth + 1
			}
			continue
		}
		secret := secretAttributes[name]
		if inConfig {
			secret = c.sensitive[name] || secretConfigKey.MatchString(name)
		}
		if secret {
			maskValue(out, toks, next(j))
		}
	}
	return out
}

// maskValue masks the literal tokens of the expression starting at toks[k],
// up to the end of its line, the next comma or the closing of an enclosing
// bracket. The argument of env() and file() stays readable: it names where
// the secret comes from, not the secret.
func maskValue(out []byte, toks hclsyntax.Tokens, k int) {
	d := 0
	for ; k < len(toks); k++ {
		t := toks[k]
		switch {
		case opens(t.Type):
			d++
			continue
		case closes(t.Type):
			d--
			if d < 0 {
				return
			}
			continue
		case d == 0 && (endsLine(t) || t.Type == hclsyntax.TokenComma || t.Type == hclsyntax.TokenEOF):
			return
		}
		switch t.Type {
		case hclsyntax.TokenQuotedLit:
			if k >= 3 && toks[k-1].Type == hclsyntax.TokenOQuote && toks[k-2].Type == hclsyntax.TokenOParen &&
				toks[k-3].Type == hclsyntax.TokenIdent && (string(toks[k-3].Bytes) == "env" || string(toks[k-3].Bytes) == "file") {
				continue
			}
		case hclsyntax.TokenIdent:
			switch string(t.Bytes) {
			case "true", "false", "null", "env", "file":
				continue
			}
			if k+1 < len(toks) && toks[k+1].Type == hclsyntax.TokenOParen {
				continue // a function name
			}
		case hclsyntax.TokenStringLit, hclsyntax.TokenNumberLit, hclsyntax.TokenInvalid, hclsyntax.TokenBadUTF8, hclsyntax.TokenQuotedNewline:
		default:
			continue
		}
		mask(out, t.Range.Start.Byte, t.Range.End.Byte)
	}
}

// endsLine reports a newline, or a line comment, which holds its newline.
func endsLine(t hclsyntax.Token) bool {
	return t.Type == hclsyntax.TokenNewline ||
		(t.Type == hclsyntax.TokenComment && len(t.Bytes) > 0 && t.Bytes[len(t.Bytes)-1] == '\n')
}

func mask(out []byte, from, to int) {
	if from < 0 {
		from = 0
	}
	if to > len(out) {
		to = len(out)
	}
	for i := from; i < to; i++ {
		if out[i] != '\n' && out[i] != '\r' {
			out[i] = '*'
		}
	}
}

func opens(t hclsyntax.TokenType) bool {
	switch t {
	case hclsyntax.TokenOBrace, hclsyntax.TokenOBrack, hclsyntax.TokenOParen, hclsyntax.TokenOQuote,
		hclsyntax.TokenOHeredoc, hclsyntax.TokenTemplateInterp, hclsyntax.TokenTemplateControl:
		return true
	}
	return false
}

func closes(t hclsyntax.TokenType) bool {
	switch t {
	case hclsyntax.TokenCBrace, hclsyntax.TokenCBrack, hclsyntax.TokenCParen, hclsyntax.TokenCQuote,
		hclsyntax.TokenCHeredoc, hclsyntax.TokenTemplateSeqEnd:
		return true
	}
	return false
}
