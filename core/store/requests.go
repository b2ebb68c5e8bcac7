package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// IDPrefix starts every generated request id.
const IDPrefix = "pri_"

// record is a request as stored. Personal data (identities, result key) is
// sealed in PII; everything else is not personal data.
type record struct {
	ID             string    `json:"id"`
	Policy         string    `json:"policy"`
	Status         Status    `json:"status"`
	Source         string    `json:"source,omitempty"`
	ExternalID     string    `json:"external_id,omitempty"`
	IdempotencyKey string    `json:"idempotency_key,omitempty"`
	IdemUntil      time.Time `json:"idempotency_until,omitzero"`
	CreatedAt      time.Time `json:"created_at"`
	DueAt          time.Time `json:"due_at,omitzero"`
	StartedAt      time.Time `json:"started_at,omitzero"`
	FinishedAt     time.Time `json:"finished_at,omitzero"`
	ReviewedBy     string    `json:"reviewed_by,omitempty"`
	// Reason is the reason in the clear, as versions before schema 2 kept
	// it; read, never written (ReasonSealed holds it).
	Reason string `json:"reason,omitempty"`
	// ReasonSealed is the sealed reason, bound to requests/<id>/reason: an
	// error's text may quote a value, whatever redaction missed.
	ReasonSealed []byte                `json:"reason_sealed,omitempty"`
	Counts       map[string]NodeCounts `json:"counts,omitempty"`
	Locations    []string              `json:"locations,omitempty"`
	Attempt      int                   `json:"attempt,omitempty"`
	// Normalized names the normalization steps applied to each identity
	// at intake (step names, never values).
	Normalized map[string][]string `json:"normalized,omitempty"`
	// ExpiresAt is when PurgeExpired may delete pages and secrets.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	// PII is the sealed piiBlob, bound to requests/<id>/pii.
	PII []byte `json:"pii"`
}

type piiBlob struct {
	Identities map[string]string `json:"identities,omitempty"`
	ResultKey  []byte            `json:"result_key,omitempty"`
}

func piiAAD(id string) []byte     { return aad(string(bktRequests), id, "pii") }
func reasonAAD(id string) []byte  { return aad(string(bktRequests), id, "reason") }
func secretsAAD(id string) []byte { return aad(string(bktSecrets), id) }

func statusKey(s Status, created time.Time, id string) []byte {
	return cat([]byte(s), []byte{0}, encTime(created), []byte(id))
}

func createdKey(created time.Time, id string) []byte {
	return cat(encTime(created), []byte(id))
}

func externalPrefix(ext string) []byte { return cat([]byte(ext), []byte{0}) }

// newID returns "pri_" and 26 lowercase Crockford base32 characters of a
// 48-bit millisecond timestamp and 80 random bits (ULID layout), so ids sort
// by creation time.
func newID(t time.Time) (string, error) {
	var b [16]byte
	ms := uint64(t.UnixMilli())
	binary.BigEndian.PutUint16(b[0:2], uint16(ms>>32))
	binary.BigEndian.PutUint32(b[2:6], uint32(ms))
	if _, err := rand.Read(b[6:]); err != nil {
		return "", fmt.Errorf("generate request id: %w", err)
	}
	const alphabet = "0123456789abcdefghjkmnpqrstvwxyz"
	var out [26]byte
	// 130 bits with two leading zero bits, five bits per character.
	for i := range out {
		v := 0
		for j := 0; j < 5; j++ {
			bit := i*5 + j - 2
			v <<= 1
			if bit >= 0 && b[bit/8]&(0x80>>(bit%8)) != 0 {
				v |= 1
			}
		}
		out[i] = alphabet[v]
	}
	return IDPrefix + string(out[:]), nil
}

func validateNew(r *Request) error {
	if err := checkName("policy key", r.Policy, 256); err != nil {
		return err
	}
	if r.Status == "" {
		r.Status = StatusPending
	}
	if !r.Status.Valid() {
		return fmt.Errorf("invalid status %q", r.Status)
	}
	if r.Status.Terminal() {
		return fmt.Errorf("a new request cannot start in terminal status %q", r.Status)
	}
	for name, value := range r.Identities {
		if err := checkName("identity name", name, 128); err != nil {
			return err
		}
		if value == "" {
			return fmt.Errorf("identity %q has an empty value", name)
		}
	}
	switch r.Source {
	case "", SourceAPI, SourceDRP, SourceCLI:
	default:
		return fmt.Errorf("invalid source %q: use api, drp or cli", r.Source)
	}
	if r.ExternalID != "" {
		if err := checkName("external id", r.ExternalID, 256); err != nil {
			return err
		}
	}
	if r.IdempotencyKey != "" {
		if err := checkName("idempotency key", r.IdempotencyKey, 512); err != nil {
			return err
		}
	}
	return nil
}

func (b *Bolt) sealPII(r *Request) ([]byte, error) {
	plain, err := json.Marshal(piiBlob{Identities: r.Identities, ResultKey: r.ResultKey})
	if err != nil {
		return nil, err
	}
	return b.seal.seal(plain, piiAAD(r.ID))
}

func toRecord(r *Request, pii []byte) *record {
	return &record{
		ID: r.ID, Policy: r.Policy, Status: r.Status, Source: r.Source,
		ExternalID: r.ExternalID, IdempotencyKey: r.IdempotencyKey, IdemUntil: utc(r.IdempotencyUntil),
		CreatedAt: r.CreatedAt.UTC(), DueAt: utc(r.DueAt), StartedAt: utc(r.StartedAt), FinishedAt: utc(r.FinishedAt),
		ReviewedBy: r.ReviewedBy, Counts: r.Counts, Locations: r.Locations,
		Attempt: r.Attempt, Normalized: r.Normalized, PII: pii,
	}
}

func utc(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC()
}

// toRequest decrypts the record's personal data.
func (b *Bolt) toRequest(rec *record) (*Request, error) {
	r := &Request{
		ID: rec.ID, Policy: rec.Policy, Status: rec.Status, Source: rec.Source,
		ExternalID: rec.ExternalID, IdempotencyKey: rec.IdempotencyKey, IdempotencyUntil: rec.IdemUntil,
		CreatedAt: rec.CreatedAt, DueAt: rec.DueAt, StartedAt: rec.StartedAt, FinishedAt: rec.FinishedAt,
		ReviewedBy: rec.ReviewedBy, Reason: rec.Reason, Counts: rec.Counts, Locations: rec.Locations,
		Attempt: rec.Attempt, Normalized: rec.Normalized,
	}
	if rec.ReasonSealed != nil {
		plain, err := b.seal.open(rec.ReasonSealed, reasonAAD(rec.ID))
		if err != nil {
			return nil, fmt.Errorf("request %s reason: %w", rec.ID, err)
		}
		r.Reason = string(plain)
	}
	plain, err := b.seal.open(rec.PII, piiAAD(rec.ID))
	if err != nil {
		return nil, fmt.Errorf("request %s identities: %w", rec.ID, err)
	}
	var p piiBlob
	if err := json.Unmarshal(plain, &p); err != nil {
		return nil, fmt.Errorf("request %s identities: %w", rec.ID, err)
	}
	r.Identities, r.ResultKey = p.Identities, p.ResultKey
	return r, nil
}

// sealReason seals a request's reason (nil when it is empty).
func (b *Bolt) sealReason(id, reason string) ([]byte, error) {
	if reason == "" {
		return nil, nil
	}
	return b.seal.seal([]byte(reason), reasonAAD(id))
}

// loadRecord reads and decodes a request record inside tx (decoding copies
// everything out of the mmap).
func loadRecord(tx *bolt.Tx, id string) (*record, error) {
	v := tx.Bucket(bktRequests).Get([]byte(id))
	if v == nil {
		return nil, fmt.Errorf("request %s: %w", id, ErrNotFound)
	}
	var rec record
	if err := json.Unmarshal(v, &rec); err != nil {
		return nil, fmt.Errorf("decode request %s: %w", id, err)
	}
	return &rec, nil
}

func putRecord(tx *bolt.Tx, rec *record) error {
	v, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encode request %s: %w", rec.ID, err)
	}
	return tx.Bucket(bktRequests).Put([]byte(rec.ID), v)
}

// CreateRequest implements Store.
func (b *Bolt) CreateRequest(ctx context.Context, in *Request, maskingSecrets []byte) (*Request, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if in == nil {
		return nil, fmt.Errorf("create request: nil request")
	}
	r := in.Clone()
	if err := validateNew(r); err != nil {
		return nil, fmt.Errorf("create request: %w", err)
	}
	if r.CreatedAt.IsZero() {
		r.CreatedAt = b.now()
	}
	r.CreatedAt = r.CreatedAt.UTC()
	if r.ID == "" {
		id, err := newID(r.CreatedAt)
		if err != nil {
			return nil, err
		}
		r.ID = id
	} else if err := checkID(r.ID); err != nil {
		return nil, fmt.Errorf("create request: %w", err)
	}
	// Encrypt before the write transaction to keep it short.
	pii, err := b.sealPII(r)
	if err != nil {
		return nil, fmt.Errorf("create request: %w", err)
	}
	var secrets []byte
	if maskingSecrets != nil {
		if secrets, err = b.seal.seal(maskingSecrets, secretsAAD(r.ID)); err != nil {
			return nil, fmt.Errorf("create request: %w", err)
		}
	}
	rec := toRecord(r, pii)
	if rec.ReasonSealed, err = b.sealReason(r.ID, r.Reason); err != nil {
		return nil, fmt.Errorf("create request: %w", err)
	}
	var existing *record
	err = b.w.update(func(tx *bolt.Tx) error {
		existing = nil
		idem := tx.Bucket(bktIdxIdem)
		if r.IdempotencyKey != "" {
			if prev := idem.Get([]byte(r.IdempotencyKey)); prev != nil {
				e, err := loadRecord(tx, string(prev))
				if err != nil {
					return fmt.Errorf("idempotency key points to a missing request: %w", err)
				}
				if e.IdemUntil.IsZero() || r.CreatedAt.Before(e.IdemUntil) {
					existing = e
					return nil
				}
				// The earlier request's hold has ended: the key names
				// the new request (Put below replaces the entry).
			}
			if err := idem.Put([]byte(r.IdempotencyKey), []byte(r.ID)); err != nil {
				return err
			}
		}
		if tx.Bucket(bktRequests).Get([]byte(r.ID)) != nil {
			return fmt.Errorf("%w: request id %s already exists", ErrConflict, r.ID)
		}
		if err := putRecord(tx, rec); err != nil {
			return err
		}
		if err := tx.Bucket(bktIdxStatus).Put(statusKey(r.Status, r.CreatedAt, r.ID), nil); err != nil {
			return err
		}
		if err := tx.Bucket(bktIdxCreated).Put(createdKey(r.CreatedAt, r.ID), nil); err != nil {
			return err
		}
		for name, value := range r.Identities {
			k := cat(b.seal.blindIndex(name, value), encTime(r.CreatedAt), []byte(r.ID))
			if err := tx.Bucket(bktIdxIdentity).Put(k, nil); err != nil {
				return err
			}
		}
		if r.ExternalID != "" {
			k := cat(externalPrefix(r.ExternalID), encTime(r.CreatedAt), []byte(r.ID))
			if err := tx.Bucket(bktIdxExternal).Put(k, nil); err != nil {
				return err
			}
		}
		if secrets != nil {
			if err := tx.Bucket(bktSecrets).Put([]byte(r.ID), secrets); err != nil {
				return err
			}
		}
		_, err := b.appendEvent(tx, r.ID, Event{Time: r.CreatedAt, Type: EventCreated, Status: r.Status})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("create request: %w", err)
	}
	if existing != nil {
		prev, err := b.toRequest(existing)
		if err != nil {
			return nil, err
		}
		return prev, fmt.Errorf("%w: idempotency key already used by request %s", ErrDuplicate, prev.ID)
	}
	if b.onStatus != nil {
		b.onStatus("", r.Status)
	}
	return r, nil
}

// Get implements Store.
func (b *Bolt) Get(ctx context.Context, id string) (*Request, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var rec *record
	err := b.db.View(func(tx *bolt.Tx) error {
		var err error
		rec, err = loadRecord(tx, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return b.toRequest(rec)
}

// MaskingSecrets implements Store.
func (b *Bolt) MaskingSecrets(ctx context.Context, id string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var sealed []byte
	err := b.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bktRequests).Get([]byte(id)) == nil {
			return fmt.Errorf("request %s: %w", id, ErrNotFound)
		}
		if v := tx.Bucket(bktSecrets).Get([]byte(id)); v != nil {
			sealed = bytes.Clone(v)
		}
		return nil
	})
	if err != nil || sealed == nil {
		return nil, err
	}
	out, err := b.seal.open(sealed, secretsAAD(id))
	if err != nil {
		return nil, fmt.Errorf("masking secrets of request %s: %w", id, err)
	}
	return out, nil
}

// Transition implements Store.
func (b *Bolt) Transition(ctx context.Context, id string, from []Status, to Status, ev Event, mutate func(*Request) error) (*Request, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(from) == 0 {
		return nil, fmt.Errorf("transition request %s: no expected status given", id)
	}
	for _, s := range from {
		if !s.Valid() {
			return nil, fmt.Errorf("transition request %s: invalid status %q", id, s)
		}
	}
	if !to.Valid() {
		return nil, fmt.Errorf("transition request %s: invalid status %q", id, to)
	}
	if ev.Type == "" {
		ev.Type = EventStatus
	}
	if ev.Status == "" {
		ev.Status = to
	}
	if err := validateEvent(ev); err != nil {
		return nil, fmt.Errorf("transition request %s: %w", id, err)
	}
	var out *Request
	var prev Status
	err := b.w.update(func(tx *bolt.Tx) error {
		rec, err := loadRecord(tx, id)
		if err != nil {
			return err
		}
		prev = rec.Status
		if !slices.Contains(from, rec.Status) {
			return fmt.Errorf("%w: request %s is %s, expected %s", ErrConflict, id, rec.Status, joinStatuses(from))
		}
		cur, err := b.toRequest(rec)
		if err != nil {
			return err
		}
		next := cur.Clone()
		if mutate != nil {
			if err := mutate(next); err != nil {
				return err
			}
			if err := checkImmutable(cur, next); err != nil {
				return err
			}
		}
		now := b.now().UTC()
		next.Status = to
		switch {
		case to.Terminal():
			// Unless mutate chose a finish time.
			if next.FinishedAt.IsZero() || next.FinishedAt.Equal(cur.FinishedAt) {
				next.FinishedAt = now
			}
		case cur.Status.Terminal():
			// Leaving a terminal status (a retry from error).
			next.FinishedAt = time.Time{}
		}
		if to == StatusInProcessing && next.StartedAt.IsZero() {
			next.StartedAt = now
		}
		nrec := toRecord(next, rec.PII)
		nrec.ExpiresAt = rec.ExpiresAt
		if next.Reason == cur.Reason && rec.ReasonSealed != nil {
			nrec.ReasonSealed = rec.ReasonSealed
		} else if nrec.ReasonSealed, err = b.sealReason(id, next.Reason); err != nil {
			return err
		}
		if rec.Status != to {
			idx := tx.Bucket(bktIdxStatus)
			if err := idx.Delete(statusKey(rec.Status, rec.CreatedAt, id)); err != nil {
				return err
			}
			if err := idx.Put(statusKey(to, rec.CreatedAt, id), nil); err != nil {
				return err
			}
		}
		if err := b.afterStatusChange(tx, nrec, now); err != nil {
			return err
		}
		if err := putRecord(tx, nrec); err != nil {
			return err
		}
		e := ev
		if e.Time.IsZero() {
			e.Time = now
		}
		if _, err := b.appendEvent(tx, id, e); err != nil {
			return err
		}
		out = next
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("transition request %s to %s: %w", id, to, err)
	}
	if b.onStatus != nil && prev != to {
		b.onStatus(prev, to)
	}
	return out, nil
}

// afterStatusChange applies what a move to or out of a terminal status
// implies for checkpoint pages, masking secrets and their expiry.
func (b *Bolt) afterStatusChange(tx *bolt.Tx, rec *record, now time.Time) error {
	if !rec.ExpiresAt.IsZero() && (!rec.Status.Terminal() || rec.Status.Retryable()) {
		// Back to work: the pages must not be purged under it.
		if err := tx.Bucket(bktIdxExpiry).Delete(cat(encTime(rec.ExpiresAt), []byte(rec.ID))); err != nil {
			return err
		}
		rec.ExpiresAt = time.Time{}
	}
	if !rec.Status.Terminal() || rec.Status.Retryable() {
		return nil
	}
	if b.retention > 0 {
		if !rec.ExpiresAt.IsZero() {
			return nil // already scheduled
		}
		rec.ExpiresAt = now.Add(b.retention)
		return tx.Bucket(bktIdxExpiry).Put(cat(encTime(rec.ExpiresAt), []byte(rec.ID)), nil)
	}
	return deleteRequestData(tx, rec.ID)
}

// deleteRequestData removes the checkpoint pages and masking secrets of a
// request. Node results, events and blobs stay.
func deleteRequestData(tx *bolt.Tx, id string) error {
	pages := tx.Bucket(bktPages)
	if pages.Bucket([]byte(id)) != nil {
		if err := pages.DeleteBucket([]byte(id)); err != nil {
			return fmt.Errorf("delete checkpoint pages: %w", err)
		}
	}
	return tx.Bucket(bktSecrets).Delete([]byte(id))
}

func checkImmutable(cur, next *Request) error {
	var bad []string
	if next.ID != cur.ID {
		bad = append(bad, "ID")
	}
	if next.Status != cur.Status {
		bad = append(bad, "Status (pass it as the target status)")
	}
	if !next.CreatedAt.Equal(cur.CreatedAt) {
		bad = append(bad, "CreatedAt")
	}
	if next.IdempotencyKey != cur.IdempotencyKey || !next.IdempotencyUntil.Equal(cur.IdempotencyUntil) {
		bad = append(bad, "IdempotencyKey")
	}
	if next.ExternalID != cur.ExternalID {
		bad = append(bad, "ExternalID")
	}
	if !bytes.Equal(next.ResultKey, cur.ResultKey) {
		bad = append(bad, "ResultKey")
	}
	if len(next.Identities) != len(cur.Identities) {
		bad = append(bad, "Identities")
	} else {
		for k, v := range cur.Identities {
			if nv, ok := next.Identities[k]; !ok || nv != v {
				bad = append(bad, "Identities")
				break
			}
		}
	}
	if bad != nil {
		return fmt.Errorf("mutate changed %s, which cannot change after creation", strings.Join(bad, ", "))
	}
	return nil
}

func joinStatuses(ss []Status) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = string(s)
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return "one of " + strings.Join(parts, ", ")
}

// Finish implements Store.
func (b *Bolt) Finish(ctx context.Context, id string, to Status, ev Event, mutate func(*Request) error) (*Request, error) {
	if !to.Terminal() {
		return nil, fmt.Errorf("finish request %s: %q is not a terminal status", id, to)
	}
	return b.Transition(ctx, id, NonTerminalStatuses(), to, ev, mutate)
}

// Unfinished implements Store.
func (b *Bolt) Unfinished(ctx context.Context, statuses ...Status) ([]*Request, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(statuses) == 0 {
		statuses = NonTerminalStatuses()
	}
	for _, s := range statuses {
		if !s.Valid() {
			return nil, fmt.Errorf("unfinished requests: invalid status %q", s)
		}
	}
	var recs []*record
	err := b.db.View(func(tx *bolt.Tx) error {
		idx := tx.Bucket(bktIdxStatus)
		for _, s := range dedupStatuses(statuses) {
			prefix := cat([]byte(s), []byte{0})
			c := idx.Cursor()
			for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
				rec, err := loadRecord(tx, string(k[len(prefix)+8:]))
				if err != nil {
					return fmt.Errorf("status index: %w", err)
				}
				recs = append(recs, rec)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("unfinished requests: %w", err)
	}
	sort.Slice(recs, func(i, j int) bool {
		if !recs[i].CreatedAt.Equal(recs[j].CreatedAt) {
			return recs[i].CreatedAt.Before(recs[j].CreatedAt)
		}
		return recs[i].ID < recs[j].ID
	})
	out := make([]*Request, 0, len(recs))
	for _, rec := range recs {
		r, err := b.toRequest(rec)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

func dedupStatuses(ss []Status) []Status {
	out := make([]Status, 0, len(ss))
	for _, s := range ss {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// ----- List -----

// rangeIter walks index keys prefix || time(8) || id newest first, within
// [from, to).
type rangeIter struct {
	c      *bolt.Cursor
	prefix []byte
	lo     []byte
	k      []byte
}

func newRangeIter(bkt *bolt.Bucket, prefix []byte, from, to time.Time) *rangeIter {
	it := &rangeIter{c: bkt.Cursor(), prefix: prefix, lo: prefix}
	if !from.IsZero() {
		it.lo = cat(prefix, encTime(from))
	}
	hi := cat(prefix, maxTimeKey, []byte{0xff})
	if !to.IsZero() {
		hi = cat(prefix, encTime(to))
	}
	k, _ := it.c.Seek(hi)
	if k == nil {
		k, _ = it.c.Last()
	} else {
		k, _ = it.c.Prev()
	}
	it.set(k)
	return it
}

func (it *rangeIter) set(k []byte) {
	if k == nil || !bytes.HasPrefix(k, it.prefix) || bytes.Compare(k, it.lo) < 0 || len(k) <= len(it.prefix)+8 {
		it.k = nil
		return
	}
	it.k = k
}

func (it *rangeIter) next() {
	k, _ := it.c.Prev()
	it.set(k)
}

// sortKey is time || id, comparable across indexes.
func (it *rangeIter) sortKey() []byte { return it.k[len(it.prefix):] }
func (it *rangeIter) id() string      { return string(it.k[len(it.prefix)+8:]) }

// List implements Store. It drives the scan with the most selective index
// given (identity, then external id, then status, then creation time) and
// checks the remaining conditions on the records.
func (b *Bolt) List(ctx context.Context, f Filter) ([]*Request, int, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	if f.Page <= 0 {
		f.Page = 1
	}
	if f.Size <= 0 {
		f.Size = DefaultPageSize
	}
	if f.Size > MaxPageSize {
		f.Size = MaxPageSize
	}
	for _, s := range f.Statuses {
		if !s.Valid() {
			return nil, 0, fmt.Errorf("list requests: invalid status %q", s)
		}
	}
	statuses := dedupStatuses(f.Statuses)
	var identityKey []byte
	if f.Identity != nil {
		if err := checkName("identity name", f.Identity.Name, 128); err != nil {
			return nil, 0, fmt.Errorf("list requests: %w", err)
		}
		identityKey = b.seal.blindIndex(f.Identity.Name, f.Identity.Value)
	}
	skip := (f.Page - 1) * f.Size
	var (
		total int
		page  []*record
	)
	err := b.db.View(func(tx *bolt.Tx) error {
		var iters []*rangeIter
		needStatus, needExternal := false, false
		switch {
		case identityKey != nil:
			iters = append(iters, newRangeIter(tx.Bucket(bktIdxIdentity), identityKey, f.CreatedFrom, f.CreatedTo))
			needStatus, needExternal = len(statuses) > 0, f.ExternalID != ""
		case f.ExternalID != "":
			iters = append(iters, newRangeIter(tx.Bucket(bktIdxExternal), externalPrefix(f.ExternalID), f.CreatedFrom, f.CreatedTo))
			needStatus = len(statuses) > 0
		case len(statuses) > 0:
			for _, s := range statuses {
				iters = append(iters, newRangeIter(tx.Bucket(bktIdxStatus), cat([]byte(s), []byte{0}), f.CreatedFrom, f.CreatedTo))
			}
		default:
			iters = append(iters, newRangeIter(tx.Bucket(bktIdxCreated), nil, f.CreatedFrom, f.CreatedTo))
		}
		for {
			// Newest head among the iterators (k-way merge).
			var best *rangeIter
			for _, it := range iters {
				if it.k != nil && (best == nil || bytes.Compare(it.sortKey(), best.sortKey()) > 0) {
					best = it
				}
			}
			if best == nil {
				return nil
			}
			id := best.id()
			best.next()
			var rec *record
			if needStatus || needExternal {
				var err error
				if rec, err = loadRecord(tx, id); err != nil {
					return fmt.Errorf("index: %w", err)
				}
				if needStatus && !slices.Contains(statuses, rec.Status) {
					continue
				}
				if needExternal && rec.ExternalID != f.ExternalID {
					continue
				}
			}
			total++
			if total <= skip || len(page) >= f.Size {
				continue
			}
			if rec == nil {
				var err error
				if rec, err = loadRecord(tx, id); err != nil {
					return fmt.Errorf("index: %w", err)
				}
			}
			page = append(page, rec)
		}
	})
	if err != nil {
		return nil, 0, fmt.Errorf("list requests: %w", err)
	}
	items := make([]*Request, 0, len(page))
	for _, rec := range page {
		r, err := b.toRequest(rec)
		if err != nil {
			return nil, 0, err
		}
		items = append(items, r)
	}
	return items, total, nil
}
