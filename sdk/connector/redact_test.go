package connector

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	connectorv1 "github.com/lethehq/lethe/proto/connector/v1"
	pluginv1 "github.com/lethehq/lethe/proto/plugin/v1"
	"github.com/lethehq/lethe/sdk/fault"
	"github.com/lethehq/lethe/sdk/internal/rpc"
	"github.com/lethehq/lethe/sdk/schema"
	"github.com/lethehq/lethe/sdk/value"
)

const marker = "MARKER-7c1e@example.com"

// quoting is an instance whose every error quotes the values it was given,
// as PostgreSQL does (`invalid input syntax for type uuid: "..."`), in
// upper case too, and panics with them on request.
type quoting struct{ panics bool }

func (quoting) Test(context.Context) error  { return nil }
func (quoting) Close(context.Context) error { return nil }

func (q quoting) Access(_ context.Context, req AccessRequest, _ RowWriter) error {
	v := fmt.Sprint(req.Filters[0].Values[0])
	if q.panics {
		panic("cannot convert " + v)
	}
	return fault.AsPermanent(fmt.Errorf(`ERROR: invalid input syntax for type uuid: "%s" (SQLSTATE 22P02); %s`, v, strings.ToUpper(v)))
}

func (quoting) Erase(_ context.Context, req EraseRequest) (EraseResult, error) {
	return EraseResult{}, fmt.Errorf("duplicate key (id)=(%v) set %v", req.Updates[0].Key["id"], req.Updates[0].Set["email"])
}

func (quoting) DryRun(_ context.Context, req AccessRequest) (string, error) {
	return "", fmt.Errorf("cannot show %q", req.Filters[0].Values[0])
}

// accessStream is enough of a server stream for Access.
type accessStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s accessStream) Context() context.Context               { return s.ctx }
func (s accessStream) Send(*connectorv1.AccessResponse) error { return nil }

func quotingServer(t *testing.T, q quoting, logger hclog.Logger) *server {
	t.Helper()
	s := newServer(Definition{Name: "quoting", New: func(context.Context, schema.Config) (Instance, error) { return q, nil }}, logger)
	if _, err := s.Configure(context.Background(), &connectorv1.ConfigureRequest{InstanceId: "i"}); err != nil {
		t.Fatal(err)
	}
	return s
}

func wireAccess(t *testing.T, v any) *connectorv1.AccessRequest {
	t.Helper()
	req, err := accessToProto("i", AccessRequest{Collection: Collection{Name: "users"}, Fields: []Path{{"id"}},
		Filters: []Filter{{Field: Path{"id"}, Values: []any{v}}}})
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// TestServerRedactsValues: an error (or a panic) of the instance that
// quotes a value of the call leaves the plugin without it, and keeps its
// classification.
func TestServerRedactsValues(t *testing.T) {
	var logs strings.Builder
	logger := hclog.New(&hclog.LoggerOptions{Output: &logs, JSONFormat: true})
	ctx := context.Background()
	check := func(what string, err error, code codes.Code) {
		t.Helper()
		st, _ := status.FromError(err)
		if err == nil || st.Code() != code {
			t.Fatalf("%s: %v, want code %s", what, err, code)
		}
		if strings.Contains(strings.ToLower(st.Message()), strings.ToLower(marker)) || !strings.Contains(st.Message(), "[redacted]") {
			t.Errorf("%s: the message is not redacted: %s", what, st.Message())
		}
	}
	s := quotingServer(t, quoting{}, logger)
	check("access", s.Access(wireAccess(t, marker), accessStream{ctx: ctx}), codes.FailedPrecondition)
	_, err := s.DryRun(ctx, &connectorv1.DryRunRequest{Access: wireAccess(t, marker)})
	check("dry run", err, codes.Unknown)
	key, _ := value.MapToProto(map[string]any{"id": marker})
	set, _ := value.MapToProto(map[string]any{"email": "masked-" + marker})
	_, err = s.Erase(ctx, &connectorv1.EraseRequest{InstanceId: "i", Collection: &pluginv1.Collection{Name: "users"},
		Updates: []*connectorv1.RowUpdate{{Key: key, Set: set}}})
	check("erase", err, codes.Unknown)

	p := quotingServer(t, quoting{panics: true}, logger)
	check("panic", p.Access(wireAccess(t, marker), accessStream{ctx: ctx}), codes.Internal)
	if strings.Contains(strings.ToLower(logs.String()), strings.ToLower(marker)) || !strings.Contains(logs.String(), "plugin panicked") {
		t.Errorf("the plugin's log holds the value: %s", logs.String())
	}
}

// oldSDK is a plugin built without redaction: its errors quote the
// values as the database wrote them.
type oldSDK struct {
	connectorv1.UnimplementedConnectorServer
}

func (oldSDK) Access(req *connectorv1.AccessRequest, _ connectorv1.Connector_AccessServer) error {
	return status.Errorf(codes.FailedPrecondition, `invalid input syntax for type uuid: "%s"`, req.GetFilters()[0].GetValues()[0].GetString_())
}

func (oldSDK) Erase(_ context.Context, req *connectorv1.EraseRequest) (*connectorv1.EraseResponse, error) {
	return nil, status.Errorf(codes.Aborted, "deadlock on row %d", req.GetUpdates()[0].GetKey().GetFields()["id"].GetInt())
}

func (oldSDK) DryRun(_ context.Context, req *connectorv1.DryRunRequest) (*connectorv1.DryRunResponse, error) {
	return nil, status.Errorf(codes.Internal, "%s", strings.ToUpper(req.GetAccess().GetFilters()[0].GetValues()[0].GetString_()))
}

// TestClientRedactsValues: the host side redacts the values it sent from
// a plugin's errors again (a plugin built with an older SDK), keeping
// their classification.
func TestClientRedactsValues(t *testing.T) {
	dir, err := os.MkdirTemp("", "lethe-redact-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ln, err := net.Listen("unix", filepath.Join(dir, "p.sock"))
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(rpc.ServerOptions()...)
	connectorv1.RegisterConnectorServer(srv, oldSDK{})
	go srv.Serve(ln)
	defer srv.Stop()
	conn, err := grpc.NewClient("unix://"+ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := NewClient(conn, nil)
	ctx := context.Background()
	areq := AccessRequest{Collection: Collection{Name: "users"}, Fields: []Path{{"id"}}, Filters: []Filter{{Field: Path{"email"}, Values: []any{marker}}}}

	_, err = c.Access(ctx, "i", areq, func([]Row) error { return nil })
	if err == nil || strings.Contains(err.Error(), marker) || !strings.Contains(err.Error(), "[redacted]") || fault.Retryable(err) {
		t.Errorf("access: %v, want a redacted permanent fault", err)
	}
	_, err = c.DryRun(ctx, "i", areq)
	if err == nil || strings.Contains(strings.ToLower(err.Error()), strings.ToLower(marker)) {
		t.Errorf("dry run: %v", err)
	}
	_, err = c.Erase(ctx, "i", EraseRequest{Collection: Collection{Name: "users"}, Updates: []RowUpdate{{Key: Row{"id": int64(5550123)}, Set: Row{"email": nil}}}})
	if err == nil || strings.Contains(err.Error(), "5550123") || !fault.Retryable(err) || errors.Is(err, fault.ErrPluginShutdown) {
		t.Errorf("erase: %v, want a redacted transient fault", err)
	}
}
