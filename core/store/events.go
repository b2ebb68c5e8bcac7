package store

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strconv"

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

// storedEvent is an event as stored: its error text sealed, bound to
// events/<id>/<seq> (an error's text may quote a value, whatever redaction
// missed). Events written before schema 2 hold the text in Error.
type storedEvent struct {
	Event
	ErrorSealed []byte `json:"error_sealed,omitempty"`
}

func eventAAD(id string, seq uint64) []byte {
	return aad(string(bktEvents), id, strconv.FormatUint(seq, 10))
}

// sealEvent returns the stored form of ev, the seq-th event of request id.
func (b *Bolt) sealEvent(id string, seq uint64, ev Event) ([]byte, error) {
	se := storedEvent{Event: ev}
	if ev.Error != "" {
		sealed, err := b.seal.seal([]byte(ev.Error), eventAAD(id, seq))
		if err != nil {
			return nil, err
		}
		se.Error, se.ErrorSealed = "", sealed
	}
	v, err := json.Marshal(se)
	if err != nil {
		return nil, fmt.Errorf("encode event: %w", err)
	}
	return v, nil
}

// openEvent decodes a stored event.
func (b *Bolt) openEvent(id string, seq uint64, v []byte) (Event, error) {
	var se storedEvent
	if err := json.Unmarshal(v, &se); err != nil {
		return Event{}, fmt.Errorf("decode event: %w", err)
	}
	ev := se.Event
	if se.ErrorSealed != nil {
		plain, err := b.seal.open(se.ErrorSealed, eventAAD(id, seq))
		if err != nil {
			return Event{}, fmt.Errorf("event %d error: %w", seq, err)
		}
		ev.Error = string(plain)
	}
	ev.Seq = seq
	return ev, nil
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
	v, err := b.sealEvent(id, seq, ev)
	if err != nil {
		return 0, err
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
			ev, err := b.openEvent(id, binary.BigEndian.Uint64(k), v)
			if err != nil {
				return err
			}
			out = append(out, ev)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("events of request %s: %w", id, err)
	}
	return out, nil
}
