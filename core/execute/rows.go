package execute

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	pluginv1 "github.com/lethehq/lethe/proto/plugin/v1"
	"github.com/lethehq/lethe/sdk/connector"
	"github.com/lethehq/lethe/sdk/value"
)

// Checkpoint pages hold rows exactly as the connector returned them, in the
// plugin protocol's typed encoding (a RowBatch), so int64, decimals, times
// and nested documents survive a restart unchanged. A row found through an
// array field also carries, under matchedKey, the positions of the array
// elements that matched (see arrays.go); no real field can have that name.
const matchedKey = "\x00matched"

// Page bounds: a page is written once it holds this many bytes or rows.
const (
	pageBytes = 1 << 20
	pageRows  = 2000
)

// pageBuffer accumulates encoded rows until a page is full.
type pageBuffer struct {
	batch pluginv1.RowBatch
	size  int
}

func (b *pageBuffer) add(row connector.Row) error {
	m, err := value.MapToProto(row)
	if err != nil {
		return fmt.Errorf("encode row: %w", err)
	}
	r := &pluginv1.Row{Fields: m.GetFields()}
	b.batch.Rows = append(b.batch.Rows, r)
	b.size += proto.Size(r)
	return nil
}

func (b *pageBuffer) full() bool { return b.size >= pageBytes || len(b.batch.Rows) >= pageRows }

func (b *pageBuffer) empty() bool { return len(b.batch.Rows) == 0 }

// take returns the encoded page and empties the buffer.
func (b *pageBuffer) take() ([]byte, error) {
	data, err := proto.Marshal(&b.batch)
	if err != nil {
		return nil, fmt.Errorf("encode page: %w", err)
	}
	b.batch.Rows = b.batch.Rows[:0]
	b.size = 0
	return data, nil
}

// decodePage calls fn with each row of an encoded page.
func decodePage(data []byte, fn func(connector.Row) error) error {
	var batch pluginv1.RowBatch
	if err := proto.Unmarshal(data, &batch); err != nil {
		return fmt.Errorf("decode checkpoint page: %w", err)
	}
	for _, r := range batch.Rows {
		row, err := value.MapFromProto(&pluginv1.ValueMap{Fields: r.GetFields()})
		if err != nil {
			return fmt.Errorf("decode checkpoint row: %w", err)
		}
		if err := fn(row); err != nil {
			return err
		}
	}
	return nil
}
