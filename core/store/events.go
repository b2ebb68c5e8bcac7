package store

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Event page limits.
const (
	DefaultEventLimit = 100
	MaxEventLimit     = 1000
)

func validateEvent(ev Event) error {
	if !ev.Type.Valid() {
		return fmt.Errorf("invalid event type %q", ev.Type)
	}
	if ev.Phase != "" && !ev.Phase.Valid() {
		return fmt.Errorf("invalid event phase %q", ev.Phase)
	}
	if ev.Status != "" && !ev.Status.Valid() {
		return fmt.Errorf("invalid event status %q", ev.Status)
	}
	return nil
}

// appendEvent appends ev to the request's log inside tx.
func (b *Bolt) appendEvent(tx *bolt.Tx, id string, ev Event) (uint64, error) {
	if ev.Time.IsZero() {
		ev.Time = b.now()
	}
	ev.Time = ev.Time.UTC()
	bkt, err := tx.Bucket(bktEvents).CreateBucketIfNotExists([]byte(id))
	if err != nil {
		return 0, fmt.Errorf("event log: %w", err)
	}
	seq, err := bkt.NextSequence()
	if err != nil {
		return 0, fmt.Errorf("event log: %w", err)
	}
	v, err := json.Marshal(ev)
	if err != nil {
		return 0, fmt.Errorf("encode event: %w", err)
	}
	if err := bkt.Put(u64(seq), v); err != nil {
		return 0, fmt.Errorf("event log: %w", err)
	}
	return seq, nil
}

// AppendEvent implements Store.
func (b *Bolt) AppendEvent(ctx context.Context, id string, ev Event) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if err := validateEvent(ev); err != nil {
		return 0, fmt.Errorf("append event to request %s: %w", id, err)
	}
	var seq uint64
	err := b.w.update(func(tx *bolt.Tx) error {
		if tx.Bucket(bktRequests).Get([]byte(id)) == nil {
			return fmt.Errorf("request %s: %w", id, ErrNotFound)
		}
		var err error
		seq, err = b.appendEvent(tx, id, ev)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("append event to request %s: %w", id, err)
	}
	return seq, nil
}

// Events implements Store. limit defaults to DefaultEventLimit and is
// capped at MaxEventLimit.
func (b *Bolt) Events(ctx context.Context, id string, afterSeq uint64, limit int) ([]Event, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = DefaultEventLimit
	}
	if limit > MaxEventLimit {
		limit = MaxEventLimit
	}
	var out []Event
	err := b.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bktRequests).Get([]byte(id)) == nil {
			return fmt.Errorf("request %s: %w", id, ErrNotFound)
		}
		bkt := tx.Bucket(bktEvents).Bucket([]byte(id))
		if bkt == nil || afterSeq == ^uint64(0) {
			return nil
		}
		c := bkt.Cursor()
		for k, v := c.Seek(u64(afterSeq + 1)); k != nil && len(out) < limit; k, v = c.Next() {
			var ev Event
			if err := json.Unmarshal(v, &ev); err != nil {
				return fmt.Errorf("decode event: %w", err)
			}
			ev.Seq = binary.BigEndian.Uint64(k)
			out = append(out, ev)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("events of request %s: %w", id, err)
	}
	return out, nil
}
