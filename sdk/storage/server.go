package storage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"sync"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	storagev1 "github.com/lethehq/lethe/proto/storage/v1"
	"github.com/lethehq/lethe/sdk/egress"
	"github.com/lethehq/lethe/sdk/internal/rpc"
	"github.com/lethehq/lethe/sdk/schema"
	"github.com/lethehq/lethe/sdk/value"
	"github.com/lethehq/lethe/sdk/version"
)

// Info returns what the plugin of def says about itself in Describe.
func (def Definition) Info() schema.Info {
	return schema.Info{
		Kind: schema.KindStorage, Name: def.Name, Version: def.Version,
		SDKVersion: version.SDK, ProtocolMajor: version.ProtocolMajor, ProtocolMinor: version.ProtocolMinor,
		Capabilities: []string{}, Config: def.Config, Description: def.Description,
	}
}

type server struct {
	storagev1.UnimplementedStorageServer
	def    Definition
	logger hclog.Logger

	mu     sync.RWMutex
	stores map[string]Store
}

func newServer(def Definition, logger hclog.Logger) *server {
	return &server{def: def, logger: logger, stores: map[string]Store{}}
}

func (s *server) Describe(ctx context.Context, _ *storagev1.DescribeRequest) (resp *storagev1.DescribeResponse, err error) {
	defer rpc.Recover(s.logger, "Describe", &err)
	pi, err := rpc.InfoToProto(s.def.Info())
	if err != nil {
		return nil, status.Errorf(codes.Internal, "describe: %v", err)
	}
	return &storagev1.DescribeResponse{Info: pi}, nil
}

func (s *server) Configure(ctx context.Context, req *storagev1.ConfigureRequest) (resp *storagev1.ConfigureResponse, err error) {
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
		return &storagev1.ConfigureResponse{Diagnostics: rpc.DiagsToProto(diags)}, nil
	}
	policy, err := rpc.EgressFromProto(req.GetEgress())
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "configure: %v", err)
	}
	ctx = egress.NewContext(ctx, policy)
	st, err := s.def.New(ctx, cfg)
	if err != nil {
		diags = append(diags, schema.Diagnostic{Severity: schema.Error, Summary: "could not create the storage", Detail: err.Error()})
		return &storagev1.ConfigureResponse{Diagnostics: rpc.DiagsToProto(diags)}, nil
	}
	if st == nil {
		return nil, status.Error(codes.Internal, "configure: the plugin's New returned a nil store")
	}
	s.mu.Lock()
	old := s.stores[req.GetInstanceId()]
	s.stores[req.GetInstanceId()] = st
	s.mu.Unlock()
	if old != nil {
		if err := old.Close(ctx); err != nil {
			s.logger.Warn("closing replaced store failed", "instance_id", req.GetInstanceId(), "error", err)
		}
	}
	return &storagev1.ConfigureResponse{Diagnostics: rpc.DiagsToProto(diags)}, nil
}

func (s *server) get(id string) (Store, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	st, ok := s.stores[id]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "instance %q is not configured", id)
	}
	return st, nil
}

func (s *server) Test(ctx context.Context, req *storagev1.TestRequest) (resp *storagev1.TestResponse, err error) {
	defer rpc.Recover(s.logger, "Test", &err)
	st, err := s.get(req.GetInstanceId())
	if err != nil {
		return nil, err
	}
	if err := st.Test(ctx); err != nil {
		return &storagev1.TestResponse{Diagnostics: rpc.DiagsToProto(schema.Diagnostics{{
			Severity: schema.Error, Summary: "storage test failed", Detail: err.Error(),
		}})}, nil
	}
	return &storagev1.TestResponse{}, nil
}

// chunkReader feeds the chunks of an upload stream to the store as an
// io.Reader, hashing and counting what it hands out.
type chunkReader struct {
	stream storagev1.Storage_UploadServer
	buf    []byte
	sum    hash.Hash
	n      int64
	eof    bool
}

func (r *chunkReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if r.eof {
			return 0, io.EOF
		}
		msg, err := r.stream.Recv()
		if errors.Is(err, io.EOF) {
			r.eof = true
			return 0, io.EOF
		}
		if err != nil {
			return 0, fmt.Errorf("receive upload chunk: %w", err)
		}
		chunk, ok := msg.GetMsg().(*storagev1.UploadRequest_Chunk)
		if !ok {
			return 0, errors.New("upload: a second header arrived after the first")
		}
		r.buf = chunk.Chunk
	}
	n := copy(p, r.buf)
	r.sum.Write(p[:n])
	r.n += int64(n)
	r.buf = r.buf[n:]
	return n, nil
}

func (s *server) Upload(stream storagev1.Storage_UploadServer) (err error) {
	defer rpc.Recover(s.logger, "Upload", &err)
	ctx := stream.Context()
	first, err := stream.Recv()
	if err != nil {
		return status.Errorf(codes.InvalidArgument, "upload: no header: %v", err)
	}
	h := first.GetHeader()
	if h == nil {
		return status.Error(codes.InvalidArgument, "upload: the first message must be the header")
	}
	if err := ValidKey(h.GetKey()); err != nil {
		return status.Errorf(codes.InvalidArgument, "upload: %v", err)
	}
	st, err := s.get(h.GetInstanceId())
	if err != nil {
		return err
	}
	obj := Object{
		RequestID: h.GetRequestId(), Key: h.GetKey(), ContentType: h.GetContentType(),
		Metadata: h.GetMetadata(), SizeHint: h.GetSizeHint(),
	}
	r := &chunkReader{stream: stream, sum: sha256.New()}
	res, err := st.Upload(ctx, obj, r)
	if err != nil {
		return rpc.ToStatus(err) // the host names the key
	}
	if !r.eof {
		// The store stopped reading early: what it wrote is not the object.
		return status.Errorf(codes.Internal, "upload %s: the store returned before reading the whole object", obj.Key)
	}
	sum := hex.EncodeToString(r.sum.Sum(nil))
	if res.SHA256 != "" && res.SHA256 != sum {
		return status.Errorf(codes.DataLoss, "upload %s: the store reports sha256 %s but received %s", obj.Key, res.SHA256, sum)
	}
	if res.Size != 0 && res.Size != r.n {
		return status.Errorf(codes.DataLoss, "upload %s: the store reports %d bytes but received %d", obj.Key, res.Size, r.n)
	}
	return stream.SendAndClose(&storagev1.UploadResponse{Location: res.Location, Size: r.n, Sha256: sum})
}

func (s *server) CloseInstance(ctx context.Context, req *storagev1.CloseInstanceRequest) (resp *storagev1.CloseInstanceResponse, err error) {
	defer rpc.Recover(s.logger, "CloseInstance", &err)
	s.mu.Lock()
	st := s.stores[req.GetInstanceId()]
	delete(s.stores, req.GetInstanceId())
	s.mu.Unlock()
	if st != nil {
		if err := st.Close(ctx); err != nil {
			return nil, rpc.ToStatus(err)
		}
	}
	return &storagev1.CloseInstanceResponse{}, nil
}

func (s *server) closeAll(ctx context.Context) {
	s.mu.Lock()
	stores := s.stores
	s.stores = map[string]Store{}
	s.mu.Unlock()
	for id, st := range stores {
		if err := st.Close(ctx); err != nil {
			s.logger.Warn("closing store failed", "instance_id", id, "error", err)
		}
	}
}
