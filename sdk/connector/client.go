package connector

import (
	"context"
	"errors"
	"fmt"
	"io"

	"google.golang.org/grpc"

	connectorv1 "github.com/lethehq/lethe/proto/connector/v1"
	pluginv1 "github.com/lethehq/lethe/proto/plugin/v1"
	"github.com/lethehq/lethe/sdk/egress"
	"github.com/lethehq/lethe/sdk/fault"
	"github.com/lethehq/lethe/sdk/internal/rpc"
	"github.com/lethehq/lethe/sdk/redact"
	"github.com/lethehq/lethe/sdk/schema"
	"github.com/lethehq/lethe/sdk/value"
)

// Client is the host side of a connector plugin: Lethe core calls it, it
// speaks gRPC. Errors are classified with package fault: a dead plugin gives
// fault.ErrPluginShutdown, an instance the plugin lost gives
// fault.ErrInstanceNotFound, a bad request a permanent fault.
type Client struct {
	rpc  connectorv1.ConnectorClient
	done <-chan struct{}
}

// NewClient wraps a gRPC connection. done is closed when the plugin process
// exits (go-plugin's doneCtx); it may be nil.
func NewClient(conn grpc.ClientConnInterface, done <-chan struct{}) *Client {
	if done == nil {
		done = make(chan struct{})
	}
	return &Client{rpc: connectorv1.NewConnectorClient(conn), done: done}
}

func (c *Client) wrap(ctx context.Context, op string, err error) error {
	return rpc.FromStatus(ctx, c.done, op, err)
}

// Describe returns the plugin's info.
func (c *Client) Describe(ctx context.Context) (schema.Info, error) {
	resp, err := c.rpc.Describe(ctx, &connectorv1.DescribeRequest{})
	if err != nil {
		return schema.Info{}, c.wrap(ctx, "describe", err)
	}
	return rpc.InfoFromProto(resp.GetInfo()), nil
}

// Configure creates or replaces instance id with cfg. Problems with cfg come
// back as diagnostics, not as an error.
func (c *Client) Configure(ctx context.Context, id string, cfg map[string]any) (schema.Diagnostics, error) {
	cfg, policy, err := egress.Detach(cfg)
	if err != nil {
		return nil, fmt.Errorf("configure %s: %w", id, fault.AsPermanent(err))
	}
	m, err := value.MapToProto(cfg)
	if err != nil {
		return nil, fmt.Errorf("configure %s: %w", id, fault.AsPermanent(err))
	}
	resp, err := c.rpc.Configure(ctx, &connectorv1.ConfigureRequest{InstanceId: id, Config: m, Egress: rpc.EgressToProto(policy)})
	if err != nil {
		return nil, c.wrap(ctx, "configure "+id, err)
	}
	return rpc.DiagsFromProto(resp.GetDiagnostics()), nil
}

// Test checks the instance's connectivity. A failed test is a permanent
// fault carrying the plugin's message.
func (c *Client) Test(ctx context.Context, id string) error {
	resp, err := c.rpc.Test(ctx, &connectorv1.TestRequest{InstanceId: id})
	if err != nil {
		return c.wrap(ctx, "test "+id, err)
	}
	if err := rpc.DiagsFromProto(resp.GetDiagnostics()).Err(); err != nil {
		return fmt.Errorf("test %s: %w", id, fault.AsPermanent(err))
	}
	return nil
}

func accessToProto(id string, req AccessRequest) (*connectorv1.AccessRequest, error) {
	out := &connectorv1.AccessRequest{
		InstanceId: id, RequestId: req.RequestID, Limit: req.Limit,
		Collection: &pluginv1.Collection{Dataset: req.Collection.Dataset, Name: req.Collection.Name},
	}
	for _, f := range req.Fields {
		out.Fields = append(out.Fields, &pluginv1.FieldPath{Parts: f})
	}
	for _, f := range req.Filters {
		pf := &connectorv1.Filter{Field: &pluginv1.FieldPath{Parts: f.Field}, Values: make([]*pluginv1.Value, len(f.Values))}
		for i, v := range f.Values {
			pv, err := value.ToProto(v)
			if err != nil {
				return nil, fmt.Errorf("filter %s: %w", f.Field, err)
			}
			pf.Values[i] = pv
		}
		out.Filters = append(out.Filters, pf)
	}
	return out, nil
}

// Access streams the matching rows to fn, one bounded batch at a time. fn
// may keep the rows; it is never called concurrently. Access returns the
// number of rows received. When fn returns an error, the stream is cancelled
// and that error returned.
func (c *Client) Access(ctx context.Context, id string, req AccessRequest, fn func([]Row) error) (int64, error) {
	preq, err := accessToProto(id, req)
	if err != nil {
		return 0, fmt.Errorf("access %s: %w", req.Collection.Name, fault.AsPermanent(err))
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The values sent are redacted from the plugin's errors again here: a
	// plugin built with an older SDK sends them as the database wrote them.
	vals := func() *redact.Set { return filterValues(req) }
	stream, err := c.rpc.Access(ctx, preq)
	if err != nil {
		return 0, c.wrap(ctx, "access "+req.Collection.Name, rpc.Redact(err, vals))
	}
	var n int64
	summary := false
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return n, c.wrap(ctx, "access "+req.Collection.Name, rpc.Redact(err, vals))
		}
		switch m := msg.GetMsg().(type) {
		case *connectorv1.AccessResponse_Rows:
			rows := make([]Row, len(m.Rows.GetRows()))
			for i, pr := range m.Rows.GetRows() {
				row, err := value.MapFromProto(&pluginv1.ValueMap{Fields: pr.GetFields()})
				if err != nil {
					// The message may quote the row's value: redacted.
					var rowVals redact.Set
					rpc.AddMap(&rowVals, &pluginv1.ValueMap{Fields: pr.GetFields()})
					return n, fmt.Errorf("access %s: row %d: %w", req.Collection.Name, n+int64(i)+1, fault.AsPermanent(rowVals.Error(err)))
				}
				rows[i] = row
			}
			n += int64(len(rows))
			if err := fn(rows); err != nil {
				return n, err
			}
		case *connectorv1.AccessResponse_Summary:
			summary = true
			if m.Summary.GetRows() != n {
				return n, fmt.Errorf("access %s: plugin reported %d rows but sent %d: %w", req.Collection.Name, m.Summary.GetRows(), n, fault.ErrPluginShutdown)
			}
		}
	}
	if !summary {
		// A stream that ends without its summary was cut short.
		return n, fmt.Errorf("access %s: stream ended without a summary: %w", req.Collection.Name, fault.ErrPluginShutdown)
	}
	return n, nil
}

// filterValues are the values an access call filters on.
func filterValues(req AccessRequest) *redact.Set {
	vals := &redact.Set{}
	for _, f := range req.Filters {
		vals.AddAll(f.Values...)
	}
	return vals
}

// Erase applies one batch of updates and returns what the plugin did.
func (c *Client) Erase(ctx context.Context, id string, req EraseRequest) (EraseResult, error) {
	preq := &connectorv1.EraseRequest{
		InstanceId: id, RequestId: req.RequestID,
		Collection: &pluginv1.Collection{Dataset: req.Collection.Dataset, Name: req.Collection.Name},
		Updates:    make([]*connectorv1.RowUpdate, len(req.Updates)),
	}
	for i, u := range req.Updates {
		k, err := value.MapToProto(u.Key)
		if err != nil {
			return EraseResult{}, fmt.Errorf("erase %s: key: %w", req.Collection.Name, fault.AsPermanent(err))
		}
		s, err := value.MapToProto(u.Set)
		if err != nil {
			return EraseResult{}, fmt.Errorf("erase %s: %w", req.Collection.Name, fault.AsPermanent(err))
		}
		preq.Updates[i] = &connectorv1.RowUpdate{Key: k, Set: s}
	}
	resp, err := c.rpc.Erase(ctx, preq)
	if err != nil {
		vals := func() *redact.Set {
			set := &redact.Set{}
			for _, u := range req.Updates {
				set.Add(map[string]any(u.Key))
				set.Add(map[string]any(u.Set))
			}
			return set
		}
		return EraseResult{}, c.wrap(ctx, "erase "+req.Collection.Name, rpc.Redact(err, vals))
	}
	return EraseResult{Rows: resp.GetRowsAffected()}, nil
}

// DryRun returns the query the plugin would run for req, or an error
// wrapping fault.ErrUnimplemented when it cannot tell.
func (c *Client) DryRun(ctx context.Context, id string, req AccessRequest) (string, error) {
	preq, err := accessToProto(id, req)
	if err != nil {
		return "", fmt.Errorf("dry run %s: %w", req.Collection.Name, fault.AsPermanent(err))
	}
	resp, err := c.rpc.DryRun(ctx, &connectorv1.DryRunRequest{Access: preq})
	if err != nil {
		return "", c.wrap(ctx, "dry run "+req.Collection.Name, rpc.Redact(err, func() *redact.Set { return filterValues(req) }))
	}
	return resp.GetQuery(), nil
}

// CloseInstance releases instance id. Closing an unknown id is not an error.
func (c *Client) CloseInstance(ctx context.Context, id string) error {
	if _, err := c.rpc.CloseInstance(ctx, &connectorv1.CloseInstanceRequest{InstanceId: id}); err != nil {
		return c.wrap(ctx, "close "+id, err)
	}
	return nil
}
