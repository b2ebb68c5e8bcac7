package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Object is a configuration object created through the API: a policy, a
// storage destination, a connection, a dataset, a secret or an API client.
// Value is the caller's JSON; the store seals it at rest (secrets live here)
// and never interprets it.
type Object struct {
	Kind      string          `json:"kind"`
	Key       string          `json:"key"`
	Value     json.RawMessage `json:"value"`
	Version   uint64          `json:"version"`
	UpdatedAt time.Time       `json:"updated_at"`
}

// ObjectWrite is one change of a PutObjects call: Value nil deletes the
// object. IfVersion, when set, makes the whole call fail with ErrConflict
// unless the object is at that version (0 for "must not exist").
type ObjectWrite struct {
	Kind      string
	Key       string
	Value     json.RawMessage
	IfVersion *uint64
}

// MaxObjectSize bounds one object's JSON.
const MaxObjectSize = 4 << 20

type objectRecord struct {
	Value     json.RawMessage `json:"value"`
	Version   uint64          `json:"version"`
	UpdatedAt time.Time       `json:"updated_at"`
}

func checkObjectKey(kind, key string) error {
	if err := checkName("object kind", kind, 64); err != nil {
		return err
	}
	if bytes.IndexByte([]byte(kind), '/') >= 0 {
		return fmt.Errorf("object kind %q contains '/'", kind)
	}
	return checkName("object key", key, 512)
}

func objectKey(kind, key string) []byte { return []byte(kind + "/" + key) }

// PutObjects applies writes atomically, in one transaction: all or none.
func (b *Bolt) PutObjects(ctx context.Context, writes []ObjectWrite) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	now := b.now().UTC()
	for _, w := range writes {
		if err := checkObjectKey(w.Kind, w.Key); err != nil {
			return fmt.Errorf("put object: %w", err)
		}
		if len(w.Value) > MaxObjectSize {
			return fmt.Errorf("put %s %q: %d bytes, at most %d allowed", w.Kind, w.Key, len(w.Value), MaxObjectSize)
		}
		if w.Value != nil && !json.Valid(w.Value) {
			return fmt.Errorf("put %s %q: value is not valid JSON", w.Kind, w.Key)
		}
	}
	return b.w.update(func(tx *bolt.Tx) error {
		bkt := tx.Bucket(bktObjects)
		for _, w := range writes {
			k := objectKey(w.Kind, w.Key)
			var cur objectRecord
			if v := bkt.Get(k); v != nil {
				if err := b.openJSON(v, aad(string(bktObjects), w.Kind, w.Key), &cur); err != nil {
					return fmt.Errorf("%s %q: %w", w.Kind, w.Key, err)
				}
			}
			if w.IfVersion != nil && *w.IfVersion != cur.Version {
				return fmt.Errorf("%s %q is at version %d, not %d: %w", w.Kind, w.Key, cur.Version, *w.IfVersion, ErrConflict)
			}
			if w.Value == nil {
				if err := bkt.Delete(k); err != nil {
					return err
				}
				continue
			}
			rec := objectRecord{Value: w.Value, Version: cur.Version + 1, UpdatedAt: now}
			data, err := json.Marshal(rec)
			if err != nil {
				return err
			}
			sealed, err := b.seal.seal(data, aad(string(bktObjects), w.Kind, w.Key))
			if err != nil {
				return err
			}
			if err := bkt.Put(k, sealed); err != nil {
				return err
			}
		}
		return nil
	})
}

// PutObject creates or replaces one object.
func (b *Bolt) PutObject(ctx context.Context, kind, key string, value json.RawMessage) error {
	if value == nil {
		return fmt.Errorf("put %s %q: value is empty", kind, key)
	}
	return b.PutObjects(ctx, []ObjectWrite{{Kind: kind, Key: key, Value: value}})
}

// DeleteObject removes one object; ErrNotFound when there is none.
func (b *Bolt) DeleteObject(ctx context.Context, kind, key string) error {
	if _, err := b.GetObject(ctx, kind, key); err != nil {
		return err
	}
	return b.PutObjects(ctx, []ObjectWrite{{Kind: kind, Key: key}})
}

// GetObject reads one object; ErrNotFound when there is none.
func (b *Bolt) GetObject(ctx context.Context, kind, key string) (Object, error) {
	if err := ctx.Err(); err != nil {
		return Object{}, err
	}
	if err := checkObjectKey(kind, key); err != nil {
		return Object{}, fmt.Errorf("get object: %w", err)
	}
	var out Object
	err := b.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bktObjects).Get(objectKey(kind, key))
		if v == nil {
			return fmt.Errorf("%s %q: %w", kind, key, ErrNotFound)
		}
		var rec objectRecord
		if err := b.openJSON(v, aad(string(bktObjects), kind, key), &rec); err != nil {
			return fmt.Errorf("%s %q: %w", kind, key, err)
		}
		out = Object{Kind: kind, Key: key, Value: rec.Value, Version: rec.Version, UpdatedAt: rec.UpdatedAt}
		return nil
	})
	return out, err
}

// ListObjects returns every object of kind, ordered by key.
func (b *Bolt) ListObjects(ctx context.Context, kind string) ([]Object, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := checkObjectKey(kind, "x"); err != nil {
		return nil, fmt.Errorf("list objects: %w", err)
	}
	var out []Object
	prefix := []byte(kind + "/")
	err := b.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bktObjects).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			key := string(k[len(prefix):])
			var rec objectRecord
			if err := b.openJSON(v, aad(string(bktObjects), kind, key), &rec); err != nil {
				return fmt.Errorf("%s %q: %w", kind, key, err)
			}
			out = append(out, Object{Kind: kind, Key: key, Value: rec.Value, Version: rec.Version, UpdatedAt: rec.UpdatedAt})
		}
		return nil
	})
	return out, err
}

func (b *Bolt) openJSON(sealed, ad []byte, v any) error {
	pt, err := b.seal.open(sealed, ad)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(pt, v); err != nil {
		return errors.Join(errors.New("corrupt object record"), err)
	}
	return nil
}

// SigningKey returns the key API tokens are signed with: derived from the
// server key, so tokens stay valid across restarts and never leave the
// server, and rotating server.encryption_key revokes them all.
func (b *Bolt) SigningKey(ctx context.Context) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return append([]byte(nil), b.seal.tokenKey...), nil
}
