package storage

import (
	"context"
	"errors"
	"fmt"
	"io"

	"google.golang.org/grpc"

	storagev1 "github.com/lethehq/lethe/proto/storage/v1"
	"github.com/lethehq/lethe/sdk/egress"
	"github.com/lethehq/lethe/sdk/fault"
	"github.com/lethehq/lethe/sdk/internal/rpc"
	"github.com/lethehq/lethe/sdk/schema"
	"github.com/lethehq/lethe/sdk/value"
)

// Client is the host side of a storage plugin. Errors are classified with
// package fault, as for connector.Client.
type Client struct {
	rpc  storagev1.StorageClient
	done <-chan struct{}
}

// NewClient wraps a gRPC connection; done is closed when the plugin exits.
func NewClient(conn grpc.ClientConnInterface, done <-chan struct{}) *Client {
	if done == nil {
		done = make(chan struct{})
	}
	return &Client{rpc: storagev1.NewStorageClient(conn), done: done}
}

func (c *Client) wrap(ctx context.Context, op string, err error) error {
	return rpc.FromStatus(ctx, c.done, op, err)
}

// Describe returns the plugin's info.
func (c *Client) Describe(ctx context.Context) (schema.Info, error) {
	resp, err := c.rpc.Describe(ctx, &storagev1.DescribeRequest{})
	if err != nil {
		return schema.Info{}, c.wrap(ctx, "describe", err)
	}
	return rpc.InfoFromProto(resp.GetInfo()), nil
}

// Configure creates or replaces instance id.
func (c *Client) Configure(ctx context.Context, id string, cfg map[string]any) (schema.Diagnostics, error) {
	cfg, policy, err := egress.Detach(cfg)
	if err != nil {
		return nil, fmt.Errorf("configure %s: %w", id, fault.AsPermanent(err))
	}
	m, err := value.MapToProto(cfg)
	if err != nil {
		return nil, fmt.Errorf("configure %s: %w", id, fault.AsPermanent(err))
	}
	resp, err := c.rpc.Configure(ctx, &storagev1.ConfigureRequest{InstanceId: id, Config: m, Egress: rpc.EgressToProto(policy)})
	if err != nil {
		return nil, c.wrap(ctx, "configure "+id, err)
	}
	return rpc.DiagsFromProto(resp.GetDiagnostics()), nil
}

// Test checks that the destination is reachable and writable.
func (c *Client) Test(ctx context.Context, id string) error {
	resp, err := c.rpc.Test(ctx, &storagev1.TestRequest{InstanceId: id})
	if err != nil {
		return c.wrap(ctx, "test "+id, err)
	}
	if err := rpc.DiagsFromProto(resp.GetDiagnostics()).Err(); err != nil {
		return fmt.Errorf("test %s: %w", id, fault.AsPermanent(err))
	}
	return nil
}

// Upload streams r to the plugin as obj.Key in chunks of at most 1 MiB and
// returns where the object landed, its size and its sha256.
func (c *Client) Upload(ctx context.Context, id string, obj Object, r io.Reader) (Result, error) {
	if err := ValidKey(obj.Key); err != nil {
		return Result{}, fmt.Errorf("upload: %w", fault.AsPermanent(err))
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.rpc.Upload(ctx)
	if err != nil {
		return Result{}, c.wrap(ctx, "upload "+obj.Key, err)
	}
	hdr := &storagev1.UploadHeader{
		InstanceId: id, RequestId: obj.RequestID, Key: obj.Key, ContentType: obj.ContentType,
		Metadata: obj.Metadata, SizeHint: obj.SizeHint,
	}
	if err := stream.Send(&storagev1.UploadRequest{Msg: &storagev1.UploadRequest_Header{Header: hdr}}); err != nil {
		return Result{}, c.closeErr(ctx, stream, obj.Key, err)
	}
	buf := make([]byte, rpc.ChunkSize)
	for {
		n, rerr := io.ReadFull(r, buf)
		if n > 0 {
			chunk := make([]byte, n)
			copy(chunk, buf[:n])
			if err := stream.Send(&storagev1.UploadRequest{Msg: &storagev1.UploadRequest_Chunk{Chunk: chunk}}); err != nil {
				return Result{}, c.closeErr(ctx, stream, obj.Key, err)
			}
		}
		if errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF) {
			break
		}
		if rerr != nil {
			// Cancelling the stream makes the plugin discard the partial object.
			cancel()
			return Result{}, fmt.Errorf("upload %s: read package: %w", obj.Key, rerr)
		}
	}
	resp, err := stream.CloseAndRecv()
	if err != nil {
		return Result{}, c.wrap(ctx, "upload "+obj.Key, err)
	}
	return Result{Location: resp.GetLocation(), Size: resp.GetSize(), SHA256: resp.GetSha256()}, nil
}

// closeErr fetches the server's real error after a failed Send (Send
// returns io.EOF when the server has already answered).
func (c *Client) closeErr(ctx context.Context, stream storagev1.Storage_UploadClient, key string, err error) error {
	if errors.Is(err, io.EOF) {
		_, err = stream.CloseAndRecv()
	}
	return c.wrap(ctx, "upload "+key, err)
}

// CloseInstance releases instance id.
func (c *Client) CloseInstance(ctx context.Context, id string) error {
	if _, err := c.rpc.CloseInstance(ctx, &storagev1.CloseInstanceRequest{InstanceId: id}); err != nil {
		return c.wrap(ctx, "close "+id, err)
	}
	return nil
}
