package connector

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	connectorv1 "github.com/lethehq/lethe/proto/connector/v1"
	pluginv1 "github.com/lethehq/lethe/proto/plugin/v1"
	"github.com/lethehq/lethe/sdk/egress"
	"github.com/lethehq/lethe/sdk/internal/rpc"
	"github.com/lethehq/lethe/sdk/redact"
	"github.com/lethehq/lethe/sdk/schema"
	"github.com/lethehq/lethe/sdk/value"
	"github.com/lethehq/lethe/sdk/version"
)

// Info returns what the plugin of def says about itself in Describe.
func (def Definition) Info() schema.Info {
	caps := []string{}
	if def.DryRun {
		caps = append(caps, schema.CapabilityDryRun)
	}
	return schema.Info{
		Kind: schema.KindConnector, Name: def.Name, Version: def.Version,
		SDKVersion: version.SDK, ProtocolMajor: version.ProtocolMajor, ProtocolMinor: version.ProtocolMinor,
		Capabilities: caps, Config: def.Config, MaxConcurrency: def.MaxConcurrency, Description: def.Description,
	}
}

// server adapts a Definition to the wire service. It keeps one instance per
// configured connection, keyed by the host's instance id.
type server struct {
	connectorv1.UnimplementedConnectorServer
	def    Definition
	logger hclog.Logger

	mu        sync.RWMutex
	instances map[string]*instance
}

type instance struct {
	Instance
	sem chan struct{} // nil when unbounded
}

func (i *instance) acquire(ctx context.Context) error {
	if i.sem == nil {
		return nil
	}
	select {
	case i.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (i *instance) release() {
	if i.sem != nil {
		<-i.sem
	}
}

func newServer(def Definition, logger hclog.Logger) *server {
	return &server{def: def, logger: logger, instances: map[string]*instance{}}
}

func (s *server) Describe(ctx context.Context, _ *connectorv1.DescribeRequest) (resp *connectorv1.DescribeResponse, err error) {
	defer rpc.Recover(s.logger, "Describe", &err)
	pi, err := rpc.InfoToProto(s.def.Info())
	if err != nil {
		return nil, status.Errorf(codes.Internal, "describe: %v", err)
	}
	return &connectorv1.DescribeResponse{Info: pi}, nil
}

func (s *server) Configure(ctx context.Context, req *connectorv1.ConfigureRequest) (resp *connectorv1.ConfigureResponse, err error) {
	defer rpc.Recover(s.logger, "Configure", &err)
	if req.GetInstanceId() == "" {
		return nil, status.Error(codes.InvalidArgument, "configure: instance_id is empty")
	}
	raw, err := value.MapFromProto(req.GetConfig())
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "configure: %v", err)
	}
	cfg, diags := s.def.Config.Validate(raw)
	if diags.HasErrors() {
		return &connectorv1.ConfigureResponse{Diagnostics: rpc.DiagsToProto(diags)}, nil
	}
	policy, err := rpc.EgressFromProto(req.GetEgress())
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "configure: %v", err)
	}
	ctx = egress.NewContext(ctx, policy)
	inst, err := s.def.New(ctx, cfg)
	if err != nil {
		diags = append(diags, schema.Diagnostic{Severity: schema.Error, Summary: "could not create the connection", Detail: err.Error()})
		return &connectorv1.ConfigureResponse{Diagnostics: rpc.DiagsToProto(diags)}, nil
	}
	if inst == nil {
		return nil, status.Error(codes.Internal, "configure: the plugin's New returned a nil instance")
	}
	wrapped := &instance{Instance: inst}
	if s.def.MaxConcurrency > 0 {
		wrapped.sem = make(chan struct{}, s.def.MaxConcurrency)
	}
	s.mu.Lock()
	old := s.instances[req.GetInstanceId()]
	s.instances[req.GetInstanceId()] = wrapped
	s.mu.Unlock()
	if old != nil {
		if err := old.Close(ctx); err != nil {
			s.logger.Warn("closing replaced instance failed", "instance_id", req.GetInstanceId(), "error", err)
		}
	}
	s.logger.Debug("instance configured", "instance_id", req.GetInstanceId())
	return &connectorv1.ConfigureResponse{Diagnostics: rpc.DiagsToProto(diags)}, nil
}

func (s *server) get(id string) (*instance, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	inst, ok := s.instances[id]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "instance %q is not configured", id)
	}
	return inst, nil
}

func (s *server) Test(ctx context.Context, req *connectorv1.TestRequest) (resp *connectorv1.TestResponse, err error) {
	defer rpc.Recover(s.logger, "Test", &err)
	inst, err := s.get(req.GetInstanceId())
	if err != nil {
		return nil, err
	}
	if err := inst.acquire(ctx); err != nil {
		return nil, rpc.ToStatus(err)
	}
	defer inst.release()
	if err := inst.Test(ctx); err != nil {
		return &connectorv1.TestResponse{Diagnostics: rpc.DiagsToProto(schema.Diagnostics{{
			Severity: schema.Error, Summary: "connection test failed", Detail: err.Error(),
		}})}, nil
	}
	return &connectorv1.TestResponse{}, nil
}

func accessFromProto(req *connectorv1.AccessRequest) (AccessRequest, error) {
	out := AccessRequest{
		RequestID:  req.GetRequestId(),
		Collection: Collection{Dataset: req.GetCollection().GetDataset(), Name: req.GetCollection().GetName()},
		Limit:      req.GetLimit(),
	}
	if out.Collection.Name == "" {
		return out, errors.New("collection name is empty")
	}
	for _, f := range req.GetFields() {
		if len(f.GetParts()) == 0 {
			return out, errors.New("a field path is empty")
		}
		out.Fields = append(out.Fields, Path(f.GetParts()))
	}
	if len(out.Fields) == 0 {
		return out, errors.New("no fields requested")
	}
	if len(req.GetFilters()) == 0 {
		return out, errors.New("access without a filter would read the whole collection; at least one filter is required")
	}
	for _, f := range req.GetFilters() {
		if len(f.GetField().GetParts()) == 0 {
			return out, errors.New("a filter's field path is empty")
		}
		vals := make([]any, len(f.GetValues()))
		for i, pv := range f.GetValues() {
			v, err := value.FromProto(pv)
			if err != nil {
				return out, fmt.Errorf("filter %s: %w", Path(f.GetField().GetParts()), err)
			}
			vals[i] = v
		}
		if len(vals) == 0 {
			return out, fmt.Errorf("filter on %s has no values", Path(f.GetField().GetParts()))
		}
		out.Filters = append(out.Filters, Filter{Field: Path(f.GetField().GetParts()), Values: vals})
	}
	return out, nil
}

// batchWriter turns Write calls into bounded RowBatch messages.
type batchWriter struct {
	ctx    context.Context
	send   func(*connectorv1.AccessResponse) error
	batch  []*pluginv1.Row
	bytes  int
	rows   int64
	limit  int64
	failed error
}

var errLimitReached = errors.New("row limit reached")

func (w *batchWriter) Write(row Row) error {
	if w.failed != nil {
		return w.failed
	}
	if err := w.ctx.Err(); err != nil {
		return err
	}
	if w.limit > 0 && w.rows >= w.limit {
		return errLimitReached
	}
	m, err := value.MapToProto(row)
	if err != nil {
		// The message may quote the row's value that failed: redacted.
		var vals redact.Set
		vals.Add(map[string]any(row))
		return fmt.Errorf("row %d: %w", w.rows+1, vals.Error(err))
	}
	pr := &pluginv1.Row{Fields: m.Fields}
	size := approxSize(map[string]any(row))
	if len(w.batch) > 0 && w.bytes+size > rpc.MaxBatchBytes {
		if err := w.flush(); err != nil {
			return err
		}
	}
	w.batch = append(w.batch, pr)
	w.bytes += size
	w.rows++
	if len(w.batch) >= rpc.MaxBatchRows || w.bytes >= rpc.MaxBatchBytes {
		return w.flush()
	}
	return nil
}

// approxSize estimates a value's encoded size from the Go value, with
// room for protobuf's tags and lengths: cheap enough per row (proto.Size
// walks the message as Marshal does again), and close enough for the soft
// batch bound, which sits far below the hard message limit.
func approxSize(v any) int {
	switch x := v.(type) {
	case string:
		return len(x) + 12
	case []byte:
		return len(x) + 12
	case value.Decimal:
		return len(x) + 12
	case map[string]any:
		n := 12
		for k, e := range x {
			n += len(k) + 12 + approxSize(e)
		}
		return n
	case []any:
		n := 12
		for _, e := range x {
			n += approxSize(e)
		}
		return n
	}
	return 24 // numbers, booleans, times, ObjectIDs, null
}

func (w *batchWriter) flush() error {
	if len(w.batch) == 0 {
		return nil
	}
	err := w.send(&connectorv1.AccessResponse{Msg: &connectorv1.AccessResponse_Rows{Rows: &pluginv1.RowBatch{Rows: w.batch}}})
	w.batch, w.bytes = nil, 0
	if err != nil {
		w.failed = err
	}
	return err
}

// accessValues are the values an access call filters on: they never leave
// the plugin in an error's text.
func accessValues(req *connectorv1.AccessRequest) *redact.Set {
	vals := &redact.Set{}
	for _, f := range req.GetFilters() {
		rpc.AddValues(vals, f.GetValues()...)
	}
	return vals
}

// eraseValues are the keys and values of an erase call.
func eraseValues(req *connectorv1.EraseRequest) *redact.Set {
	vals := &redact.Set{}
	for _, u := range req.GetUpdates() {
		rpc.AddMap(vals, u.GetKey())
		rpc.AddMap(vals, u.GetSet())
	}
	return vals
}

func (s *server) Access(req *connectorv1.AccessRequest, stream connectorv1.Connector_AccessServer) (err error) {
	vals := func() *redact.Set { return accessValues(req) }
	defer func() { err = rpc.Redact(err, vals) }()
	defer rpc.Recover(s.logger, "Access", &err, vals)
	ctx := stream.Context()
	start := time.Now()
	inst, err := s.get(req.GetInstanceId())
	if err != nil {
		return err
	}
	areq, err := accessFromProto(req)
	if err != nil {
		return status.Errorf(codes.InvalidArgument, "access %s: %v", req.GetCollection().GetName(), err)
	}
	if err := inst.acquire(ctx); err != nil {
		return rpc.ToStatus(err)
	}
	defer inst.release()
	w := &batchWriter{ctx: ctx, send: stream.Send, limit: areq.Limit}
	if err := inst.Access(ctx, areq, w); err != nil && !errors.Is(err, errLimitReached) {
		if w.failed != nil {
			return w.failed
		}
		return rpc.ToStatus(err)
	}
	if err := w.flush(); err != nil {
		return err
	}
	return stream.Send(&connectorv1.AccessResponse{Msg: &connectorv1.AccessResponse_Summary{Summary: &connectorv1.AccessSummary{
		Rows: w.rows, DurationMicros: time.Since(start).Microseconds(),
	}}})
}

func eraseFromProto(req *connectorv1.EraseRequest) (EraseRequest, error) {
	out := EraseRequest{
		RequestID:  req.GetRequestId(),
		Collection: Collection{Dataset: req.GetCollection().GetDataset(), Name: req.GetCollection().GetName()},
	}
	if out.Collection.Name == "" {
		return out, errors.New("collection name is empty")
	}
	for i, u := range req.GetUpdates() {
		key, err := value.MapFromProto(u.GetKey())
		if err != nil {
			return out, fmt.Errorf("update %d key: %w", i, err)
		}
		if len(key) == 0 {
			return out, fmt.Errorf("update %d has an empty key; erasure updates rows by key only", i)
		}
		set, err := value.MapFromProto(u.GetSet())
		if err != nil {
			return out, fmt.Errorf("update %d: %w", i, err)
		}
		if len(set) == 0 {
			return out, fmt.Errorf("update %d sets no field", i)
		}
		out.Updates = append(out.Updates, RowUpdate{Key: key, Set: set})
	}
	return out, nil
}

func (s *server) Erase(ctx context.Context, req *connectorv1.EraseRequest) (resp *connectorv1.EraseResponse, err error) {
	vals := func() *redact.Set { return eraseValues(req) }
	defer func() { err = rpc.Redact(err, vals) }()
	defer rpc.Recover(s.logger, "Erase", &err, vals)
	inst, err := s.get(req.GetInstanceId())
	if err != nil {
		return nil, err
	}
	ereq, err := eraseFromProto(req)
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "erase %s: %v", req.GetCollection().GetName(), err)
	}
	if len(ereq.Updates) == 0 {
		return &connectorv1.EraseResponse{}, nil
	}
	if err := inst.acquire(ctx); err != nil {
		return nil, rpc.ToStatus(err)
	}
	defer inst.release()
	res, err := inst.Erase(ctx, ereq)
	if err != nil {
		return nil, rpc.ToStatus(err)
	}
	return &connectorv1.EraseResponse{RowsAffected: res.Rows}, nil
}

func (s *server) DryRun(ctx context.Context, req *connectorv1.DryRunRequest) (resp *connectorv1.DryRunResponse, err error) {
	vals := func() *redact.Set { return accessValues(req.GetAccess()) }
	defer func() { err = rpc.Redact(err, vals) }()
	defer rpc.Recover(s.logger, "DryRun", &err, vals)
	inst, err := s.get(req.GetAccess().GetInstanceId())
	if err != nil {
		return nil, err
	}
	dr, ok := inst.Instance.(DryRunner)
	if !ok {
		return nil, status.Error(codes.Unimplemented, "this connector cannot show its queries")
	}
	areq, err := accessFromProto(req.GetAccess())
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "dry run: %v", err)
	}
	q, err := dr.DryRun(ctx, areq)
	if err != nil {
		return nil, rpc.ToStatus(err)
	}
	return &connectorv1.DryRunResponse{Query: q}, nil
}

func (s *server) CloseInstance(ctx context.Context, req *connectorv1.CloseInstanceRequest) (resp *connectorv1.CloseInstanceResponse, err error) {
	defer rpc.Recover(s.logger, "CloseInstance", &err)
	s.mu.Lock()
	inst := s.instances[req.GetInstanceId()]
	delete(s.instances, req.GetInstanceId())
	s.mu.Unlock()
	if inst != nil {
		if err := inst.Close(ctx); err != nil {
			return nil, rpc.ToStatus(err)
		}
	}
	return &connectorv1.CloseInstanceResponse{}, nil
}

// closeAll closes every instance; used on SIGTERM and parent death.
func (s *server) closeAll(ctx context.Context) {
	s.mu.Lock()
	insts := s.instances
	s.instances = map[string]*instance{}
	s.mu.Unlock()
	for id, inst := range insts {
		if err := inst.Close(ctx); err != nil {
			s.logger.Warn("closing instance failed", "instance_id", id, "error", err)
		}
	}
}
