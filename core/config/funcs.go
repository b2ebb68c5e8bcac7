package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// evalContext offers exactly two functions and no variables:
//
//	env("NAME")  the value of an environment variable; unset is an error
//	file("path") a file's content, path relative to the configuration
//	             directory and confined to it; one trailing newline is
//	             dropped (secret files usually end with one)
//
// Every value they return is remembered as a secret, so that no diagnostic
// can repeat it.
func (l *loader) evalContext() *hcl.EvalContext {
	return &hcl.EvalContext{
		Functions: map[string]function.Function{
			"env": function.New(&function.Spec{
				Description: "Returns the value of an environment variable.",
				Params:      []function.Parameter{{Name: "name", Type: cty.String}},
				Type:        function.StaticReturnType(cty.String),
				Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
					name := args[0].AsString()
					if name == "" {
						return cty.NilVal, errors.New("env needs the name of an environment variable, like env(\"LETHE_ENCRYPTION_KEY\")")
					}
					v, ok := l.lookupEnv(name)
					if !ok {
						return cty.NilVal, fmt.Errorf("environment variable %q is not set; set it before starting Lethe", name)
					}
					if !utf8.ValidString(v) {
						return cty.NilVal, fmt.Errorf("environment variable %q is not valid UTF-8 text", name)
					}
					l.remember(v)
					return cty.StringVal(v), nil
				},
			}),
			"file": function.New(&function.Spec{
				Description: "Returns the content of a file in the configuration directory.",
				Params:      []function.Parameter{{Name: "path", Type: cty.String}},
				Type:        function.StaticReturnType(cty.String),
				Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
					v, err := l.readIncluded(args[0].AsString())
					if err != nil {
						return cty.NilVal, err
					}
					l.remember(v)
					return cty.StringVal(v), nil
				},
			}),
		},
	}
}

// readIncluded reads path for file(), inside the configuration directory.
func (l *loader) readIncluded(path string) (string, error) {
	if path == "" {
		return "", errors.New("file needs a path relative to the configuration directory, like file(\"secrets/db_password\")")
	}
	if l.root == nil {
		return "", fmt.Errorf("cannot read file %q: the configuration directory is not open", path)
	}
	rel := filepath.FromSlash(path)
	if filepath.IsAbs(rel) || !filepath.IsLocal(rel) {
		return "", fmt.Errorf("file %q is outside the configuration directory %s; file() reads only files inside it (copy or link the file there)", path, l.dir)
	}
	f, err := l.root.Open(rel)
	if err != nil {
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return "", fmt.Errorf("file %q does not exist in the configuration directory %s", path, l.dir)
		case strings.Contains(err.Error(), "escapes"):
			return "", fmt.Errorf("file %q leads outside the configuration directory %s (through a symbolic link); file() reads only files inside it", path, l.dir)
		}
		return "", fmt.Errorf("cannot read file %q: %v", path, errors.Unwrap(err))
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("cannot read file %q: %v", path, err)
	}
	if !st.Mode().IsRegular() {
		return "", fmt.Errorf("file %q is not a regular file", path)
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxIncludedFile+1))
	if err != nil {
		return "", fmt.Errorf("cannot read file %q: %v", path, err)
	}
	if len(b) > MaxIncludedFile {
		return "", fmt.Errorf("file %q is larger than %d bytes", path, MaxIncludedFile)
	}
	if !utf8.Valid(b) {
		return "", fmt.Errorf("file %q is not UTF-8 text", path)
	}
	s := string(b)
	if t, ok := strings.CutSuffix(s, "\n"); ok {
		s = strings.TrimSuffix(t, "\r")
	}
	return s, nil
}
