package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/lethehq/lethe/core/catalog"
)

// catalogError maps a catalog error to the API's: a declared object is
// 409 naming its file, an invalid change 422 with every problem, a missing
// object 404; anything else is a 400 with the message.
func catalogError(err error) error {
	var decl *catalog.DeclaredError
	var inv *catalog.InvalidError
	var apiErr *Error
	switch {
	case errors.As(err, &apiErr):
		return apiErr
	case errors.As(err, &decl):
		return &Error{Status: http.StatusConflict, Code: "declared_in_file", Message: decl.Error(), Details: map[string]string{"file": decl.File}}
	case errors.As(err, &inv):
		return &Error{Status: http.StatusUnprocessableEntity, Code: "invalid_configuration", Message: "the change would make the configuration invalid; nothing was changed", Details: inv.Problems}
	case errors.Is(err, catalog.ErrNotFound):
		return notFound("%s", err.Error())
	}
	return badRequest("%s", err.Error())
}

// failure is a bulk item's failure: the message, and for an invalid change
// the problems.
func failure(err error, data any) BulkFailed {
	f := BulkFailed{Message: err.Error(), Data: data}
	var inv *catalog.InvalidError
	if errors.As(err, &inv) {
		f.Message = "the change would make the configuration invalid: " + joinProblems(inv.Problems)
	}
	return f
}

func joinProblems(p []string) string {
	out := ""
	for i, s := range p {
		if i > 0 {
			out += "; "
		}
		out += s
	}
	return out
}

// bulkItems decodes a bulk body: a JSON list of 1 to MaxBulkItems items.
func bulkItems[T any](r *http.Request) ([]T, error) {
	var items []T
	if err := decode(r, &items); err != nil {
		return nil, err
	}
	switch {
	case len(items) == 0:
		return nil, badRequest("the body is an empty list; give 1 to %d items", MaxBulkItems)
	case len(items) > MaxBulkItems:
		return nil, badRequest("the body has %d items; give at most %d per call", len(items), MaxBulkItems)
	}
	return items, nil
}

// bulk runs put on each item. An item naming an object declared in a file
// refuses the whole call with 409 before anything is changed.
func bulk[T, V any](w http.ResponseWriter, r *http.Request, declared func(T) error, put func(T) (V, error)) error {
	items, err := bulkItems[T](r)
	if err != nil {
		return err
	}
	for _, it := range items {
		if err := declared(it); err != nil {
			return catalogError(err)
		}
	}
	out := Bulk[V]{Succeeded: []V{}, Failed: []BulkFailed{}}
	for _, it := range items {
		v, err := put(it)
		if err != nil {
			out.Failed = append(out.Failed, failure(err, it))
			continue
		}
		out.Succeeded = append(out.Succeeded, v)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) patchPolicies(w http.ResponseWriter, r *http.Request, _ Principal) error {
	cat, err := s.catalog()
	if err != nil {
		return err
	}
	return bulk(w, r, func(in catalog.PolicyInput) error { return cat.Declared(catalog.KindPolicy, in.Key, in.Name) },
		func(in catalog.PolicyInput) (catalog.PolicyView, error) { return cat.PutPolicy(r.Context(), in) })
}

func (s *Server) deletePolicy(w http.ResponseWriter, r *http.Request, _ Principal) error {
	return s.noContent(w, func(cat *catalog.Catalog) error { return cat.DeletePolicy(r.Context(), r.PathValue("key")) })
}

func (s *Server) patchRules(w http.ResponseWriter, r *http.Request, _ Principal) error {
	cat, err := s.catalog()
	if err != nil {
		return err
	}
	pk := r.PathValue("key")
	return bulk(w, r, func(catalog.RuleInput) error { return cat.Declared(catalog.KindPolicy, pk, "") },
		func(in catalog.RuleInput) (catalog.RuleView, error) { return cat.PutRule(r.Context(), pk, in) })
}

func (s *Server) deleteRule(w http.ResponseWriter, r *http.Request, _ Principal) error {
	return s.noContent(w, func(cat *catalog.Catalog) error {
		return cat.DeleteRule(r.Context(), r.PathValue("key"), r.PathValue("rule"))
	})
}

func (s *Server) patchTargets(w http.ResponseWriter, r *http.Request, _ Principal) error {
	cat, err := s.catalog()
	if err != nil {
		return err
	}
	pk, rk := r.PathValue("key"), r.PathValue("rule")
	return bulk(w, r, func(catalog.TargetInput) error { return cat.Declared(catalog.KindPolicy, pk, "") },
		func(in catalog.TargetInput) (catalog.TargetView, error) {
			return cat.PutTarget(r.Context(), pk, rk, in)
		})
}

func (s *Server) deleteTarget(w http.ResponseWriter, r *http.Request, _ Principal) error {
	return s.noContent(w, func(cat *catalog.Catalog) error {
		return cat.DeleteTarget(r.Context(), r.PathValue("key"), r.PathValue("rule"), r.PathValue("target"))
	})
}

func (s *Server) noContent(w http.ResponseWriter, fn func(*catalog.Catalog) error) error {
	cat, err := s.catalog()
	if err != nil {
		return err
	}
	if err := fn(cat); err != nil {
		return catalogError(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// answer writes what fn returns, or its error as the API's.
func (s *Server) answer(w http.ResponseWriter, fn func(*catalog.Catalog) (any, error)) error {
	cat, err := s.catalog()
	if err != nil {
		return err
	}
	v, err := fn(cat)
	if err != nil {
		return catalogError(err)
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// MaxDatasetPageSize bounds pages of datasets, which are large objects.
const MaxDatasetPageSize = 10

// paged returns the page of all that the page and size query parameters
// name (size at most max); other query parameters are refused.
func paged[V any](r *http.Request, all []V, max int) (Page[V], error) {
	q := r.URL.Query()
	for k := range q {
		if k != "page" && k != "size" {
			return Page[V]{}, badRequest("unknown query parameter %q", k)
		}
	}
	page, size, err := pageParamsMax(q.Get("page"), q.Get("size"), max)
	if err != nil {
		return Page[V]{}, err
	}
	items := []V{}
	if from := (page - 1) * size; from < len(all) {
		items = all[from:min(len(all), from+size)]
	}
	return Page[V]{Items: items, Total: len(all), Page: page, Size: size}, nil
}

// putSecret reads a secret body and ?verify=, and hands them to put.
func (s *Server) putSecret(w http.ResponseWriter, r *http.Request,
	put func(*catalog.Catalog, context.Context, string, json.RawMessage, bool) (catalog.TestResult, error)) error {
	raw, verify, err := secretBody(r)
	if err != nil {
		return err
	}
	return s.answer(w, func(cat *catalog.Catalog) (any, error) { return put(cat, r.Context(), r.PathValue("key"), raw, verify) })
}

// ----- storage -----

func (s *Server) listStorage(w http.ResponseWriter, r *http.Request, _ Principal) error {
	return s.answer(w, func(cat *catalog.Catalog) (any, error) { return paged(r, cat.Storages(r.Context()), MaxPageSize) })
}

func (s *Server) getStorage(w http.ResponseWriter, r *http.Request, _ Principal) error {
	return s.answer(w, func(cat *catalog.Catalog) (any, error) { return cat.Storage(r.Context(), r.PathValue("key")) })
}

func (s *Server) patchStorage(w http.ResponseWriter, r *http.Request, _ Principal) error {
	cat, err := s.catalog()
	if err != nil {
		return err
	}
	return bulk(w, r, func(in catalog.StorageInput) error { return cat.Declared(catalog.KindStorage, in.Key, in.Name) },
		func(in catalog.StorageInput) (catalog.StorageView, error) { return cat.PutStorage(r.Context(), in) })
}

// StorageDestinations is the body of PUT /storage/config, as the original
// quick start sends it.
type StorageDestinations struct {
	Destinations []catalog.StorageInput `json:"destinations"`
}

func (s *Server) putStorage(w http.ResponseWriter, r *http.Request, _ Principal) error {
	cat, err := s.catalog()
	if err != nil {
		return err
	}
	var body StorageDestinations
	if err := decode(r, &body); err != nil {
		return err
	}
	switch {
	case len(body.Destinations) == 0:
		return badRequest("destinations is empty; give 1 to %d storage destinations", MaxBulkItems)
	case len(body.Destinations) > MaxBulkItems:
		return badRequest("destinations has %d items; give at most %d per call", len(body.Destinations), MaxBulkItems)
	}
	for _, in := range body.Destinations {
		if err := cat.Declared(catalog.KindStorage, in.Key, in.Name); err != nil {
			return catalogError(err)
		}
	}
	out := Bulk[catalog.StorageView]{Succeeded: []catalog.StorageView{}, Failed: []BulkFailed{}}
	for _, in := range body.Destinations {
		v, err := cat.PutStorage(r.Context(), in)
		if err != nil {
			out.Failed = append(out.Failed, failure(err, in))
			continue
		}
		out.Succeeded = append(out.Succeeded, v)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) deleteStorage(w http.ResponseWriter, r *http.Request, _ Principal) error {
	return s.noContent(w, func(cat *catalog.Catalog) error { return cat.DeleteStorage(r.Context(), r.PathValue("key")) })
}

// secretBody reads a secret: a JSON object, never logged or returned.
func secretBody(r *http.Request) (json.RawMessage, bool, error) {
	q := r.URL.Query()
	for k := range q {
		if k != "verify" {
			return nil, false, badRequest("unknown query parameter %q", k)
		}
	}
	verify := false
	switch q.Get("verify") {
	case "", "false":
	case "true":
		verify = true
	default:
		return nil, false, badRequest("verify must be true or false")
	}
	var m map[string]any
	if err := decode(r, &m); err != nil {
		return nil, false, err
	}
	raw, err := json.Marshal(m)
	return raw, verify, err
}

func (s *Server) putStorageSecret(w http.ResponseWriter, r *http.Request, _ Principal) error {
	return s.putSecret(w, r, (*catalog.Catalog).PutStorageSecret)
}

// ----- connections and datasets -----

func (s *Server) listConnections(w http.ResponseWriter, r *http.Request, _ Principal) error {
	return s.answer(w, func(cat *catalog.Catalog) (any, error) { return paged(r, cat.Connections(r.Context()), MaxPageSize) })
}

func (s *Server) getConnection(w http.ResponseWriter, r *http.Request, _ Principal) error {
	return s.answer(w, func(cat *catalog.Catalog) (any, error) { return cat.Connection(r.Context(), r.PathValue("key")) })
}

func (s *Server) patchConnections(w http.ResponseWriter, r *http.Request, _ Principal) error {
	cat, err := s.catalog()
	if err != nil {
		return err
	}
	return bulk(w, r, func(in catalog.ConnectionInput) error { return cat.Declared(catalog.KindConnection, in.Key, in.Name) },
		func(in catalog.ConnectionInput) (catalog.ConnectionView, error) {
			return cat.PutConnection(r.Context(), in)
		})
}

func (s *Server) deleteConnection(w http.ResponseWriter, r *http.Request, _ Principal) error {
	return s.noContent(w, func(cat *catalog.Catalog) error { return cat.DeleteConnection(r.Context(), r.PathValue("key")) })
}

func (s *Server) putConnectionSecret(w http.ResponseWriter, r *http.Request, _ Principal) error {
	return s.putSecret(w, r, (*catalog.Catalog).PutConnectionSecret)
}

func (s *Server) testConnection(w http.ResponseWriter, r *http.Request, _ Principal) error {
	return s.answer(w, func(cat *catalog.Catalog) (any, error) { return cat.TestConnection(r.Context(), r.PathValue("key")) })
}

func (s *Server) listDatasets(w http.ResponseWriter, r *http.Request, _ Principal) error {
	return s.answer(w, func(cat *catalog.Catalog) (any, error) {
		all, err := cat.Datasets(r.PathValue("key"))
		if err != nil {
			return nil, err
		}
		return paged(r, all, MaxDatasetPageSize)
	})
}

func (s *Server) patchDatasets(w http.ResponseWriter, r *http.Request, _ Principal) error {
	cat, err := s.catalog()
	if err != nil {
		return err
	}
	conn := r.PathValue("key")
	return bulk(w, r, func(raw json.RawMessage) error {
		var head struct {
			FidesKey string `json:"fides_key"`
		}
		_ = json.Unmarshal(raw, &head)
		return cat.Declared(catalog.KindDataset, head.FidesKey, "")
	}, func(raw json.RawMessage) (catalog.DatasetView, error) { return cat.PutDataset(r.Context(), conn, raw) })
}

func (s *Server) deleteDataset(w http.ResponseWriter, r *http.Request, _ Principal) error {
	return s.noContent(w, func(cat *catalog.Catalog) error {
		return cat.DeleteDataset(r.Context(), r.PathValue("key"), r.PathValue("dataset"))
	})
}
