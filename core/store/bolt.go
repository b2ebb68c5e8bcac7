package store

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// File names inside the state directory.
const (
	DBFileName   = "lethe.db"
	LockFileName = "lethe.lock.json"
)

// schemaVersion is the layout version written at first open. Version 2
// seals request reasons and event error texts; a version 1 file is
// migrated when opened (see migrateSealErrors).
const schemaVersion = 2

// Top-level buckets. Index keys end in created-time(8) || request id, so a
// prefix scan is time-ordered.
var (
	bktMeta        = []byte("meta")         // schema, keycheck
	bktRequests    = []byte("requests")     // id -> record JSON (PII sealed inside)
	bktIdxStatus   = []byte("idx_status")   // status 0 created id -> nil
	bktIdxCreated  = []byte("idx_created")  // created id -> nil
	bktIdxIdentity = []byte("idx_identity") // hmac(32) created id -> nil
	bktIdxExternal = []byte("idx_external") // external 0 created id -> nil
	bktIdxIdem     = []byte("idx_idem")     // idempotency key -> id
	bktIdxExpiry   = []byte("idx_expiry")   // expires(8) id -> nil
	bktSecrets     = []byte("secrets")      // id -> sealed masking secrets
	bktEvents      = []byte("events")       // id/ seq(8) -> event JSON
	bktNodes       = []byte("nodes")        // id/ phase 0 node -> nodeState JSON
	bktPages       = []byte("pages")        // id/ phase 0 node/ page(4) -> sealed rows
	bktBlobs       = []byte("blobs")        // id/ name -> sealed value
	bktObjects     = []byte("objects")      // kind/ key -> sealed object JSON
	allBuckets     = [][]byte{bktMeta, bktRequests, bktIdxStatus, bktIdxCreated, bktIdxIdentity,
		bktIdxExternal, bktIdxIdem, bktIdxExpiry, bktSecrets, bktEvents, bktNodes, bktPages, bktBlobs, bktObjects}

	metaSchema   = []byte("schema")
	metaKeyCheck = []byte("keycheck")
)

const keyCheckPlaintext = "lethe state directory key check v1"

// Options configure Open.
type Options struct {
	// Key is the 32-byte server key. Required.
	Key []byte
	// LockTimeout bounds the wait for another process to release the state
	// directory (default 1s).
	LockTimeout time.Duration
	// Clock returns the current time (default time.Now).
	Clock func() time.Time
	// Retention keeps a finished request's checkpoint pages and masking
	// secrets this long after it finished; 0 deletes them at finish.
	Retention time.Duration
	// OnStatus, when set, is called after every committed change of a
	// request's status (from is "" for a new request), so that counts by
	// status can be kept without scanning. It must be quick.
	OnStatus func(from, to Status)
}

// Bolt is the bbolt-backed Store.
type Bolt struct {
	db        *bolt.DB
	w         *committer
	seal      *sealer
	now       func() time.Time
	retention time.Duration
	onStatus  func(from, to Status)
	dir       string
	closeOnce sync.Once
	closeErr  error
}

// Commits counts the write transactions committed since Open, for tests
// and metrics: a node's outcome is one.
func (b *Bolt) Commits() int64 { return b.w.commits.Load() }

var _ Store = (*Bolt)(nil)

// LockInfo is written to the lock file by the process holding the state
// directory.
type LockInfo struct {
	PID       int       `json:"pid"`
	Hostname  string    `json:"hostname"`
	StartedAt time.Time `json:"started_at"`
}

// Open opens (creating when needed) the state in dir: dir/lethe.db, mode
// 0600, in a directory created 0700. A second process opening the same
// directory fails after LockTimeout with ErrLocked naming the holder.
func Open(dir string, opts Options) (*Bolt, error) {
	seal, err := newSealer(opts.Key)
	if err != nil {
		return nil, err
	}
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = time.Second
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.Retention < 0 {
		return nil, fmt.Errorf("retention must not be negative, got %s", opts.Retention)
	}
	if dir == "" {
		return nil, errors.New("state directory is empty; set server.state_dir")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create state directory %s: %w", dir, err)
	}
	path := filepath.Join(dir, DBFileName)
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout:      opts.LockTimeout,
		FreelistType: bolt.FreelistMapType,
	})
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, lockedError(dir)
		}
		return nil, fmt.Errorf("open state file %s: %w", path, err)
	}
	b := &Bolt{db: db, seal: seal, now: opts.Clock, retention: opts.Retention, onStatus: opts.OnStatus, dir: dir}
	if err := b.init(); err != nil {
		db.Close()
		return nil, err
	}
	if err := writeLockFile(dir, opts.Clock()); err != nil {
		db.Close()
		return nil, err
	}
	b.w = newCommitter(db)
	return b, nil
}

func (b *Bolt) init() error {
	return b.db.Update(func(tx *bolt.Tx) error {
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		meta := tx.Bucket(bktMeta)
		if v := meta.Get(metaSchema); v != nil {
			if len(v) != 4 {
				return fmt.Errorf("state file %s: corrupt schema version", b.db.Path())
			}
			got := binary.BigEndian.Uint32(v)
			if got > schemaVersion {
				return fmt.Errorf("state file %s has schema version %d, this lethe supports up to %d; upgrade lethe", b.db.Path(), got, schemaVersion)
			}
			if got < 2 {
				if err := b.checkKey(meta); err != nil {
					return err
				}
				if err := b.migrateSealErrors(tx); err != nil {
					return fmt.Errorf("state file %s: seal reasons and event errors (schema 1 to 2): %w", b.db.Path(), err)
				}
				if err := meta.Put(metaSchema, binary.BigEndian.AppendUint32(nil, schemaVersion)); err != nil {
					return err
				}
			}
		} else {
			if err := meta.Put(metaSchema, binary.BigEndian.AppendUint32(nil, schemaVersion)); err != nil {
				return err
			}
		}
		if meta.Get(metaKeyCheck) != nil {
			return b.checkKey(meta)
		}
		sealed, err := b.seal.seal([]byte(keyCheckPlaintext), aad(string(bktMeta), string(metaKeyCheck)))
		if err != nil {
			return err
		}
		return meta.Put(metaKeyCheck, sealed)
	})
}

// checkKey checks the key against the sealed key check, when there is one.
func (b *Bolt) checkKey(meta *bolt.Bucket) error {
	v := meta.Get(metaKeyCheck)
	if v == nil {
		return nil
	}
	pt, err := b.seal.open(v, aad(string(bktMeta), string(metaKeyCheck)))
	if err != nil || string(pt) != keyCheckPlaintext {
		return fmt.Errorf("open state directory %s: %w; use the original server.encryption_key or another state_dir", b.dir, ErrWrongKey)
	}
	return nil
}

// migrateSealErrors seals the reasons and event error texts a schema 1
// file keeps in the clear. (bbolt may keep the old bytes in free pages
// until they are reused; a state file that must lose them for certain is
// compacted with bbolt's compact command after the upgrade.)
func (b *Bolt) migrateSealErrors(tx *bolt.Tx) error {
	reqs := tx.Bucket(bktRequests)
	var recs []*record
	err := reqs.ForEach(func(k, v []byte) error {
		var rec record
		if err := json.Unmarshal(v, &rec); err != nil {
			return fmt.Errorf("decode request %s: %w", k, err)
		}
		if rec.Reason != "" {
			recs = append(recs, &rec)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, rec := range recs {
		sealed, err := b.sealReason(rec.ID, rec.Reason)
		if err != nil {
			return err
		}
		rec.Reason, rec.ReasonSealed = "", sealed
		if err := putRecord(tx, rec); err != nil {
			return err
		}
	}
	events := tx.Bucket(bktEvents)
	var ids [][]byte
	if err := events.ForEachBucket(func(k []byte) error { ids = append(ids, append([]byte(nil), k...)); return nil }); err != nil {
		return err
	}
	for _, id := range ids {
		bkt := events.Bucket(id)
		type rewrite struct {
			key []byte
			ev  Event
		}
		var todo []rewrite
		err := bkt.ForEach(func(k, v []byte) error {
			var se storedEvent
			if err := json.Unmarshal(v, &se); err != nil {
				return fmt.Errorf("decode event of request %s: %w", id, err)
			}
			if se.Error != "" {
				todo = append(todo, rewrite{append([]byte(nil), k...), se.Event})
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, r := range todo {
			v, err := b.sealEvent(string(id), binary.BigEndian.Uint64(r.key), r.ev)
			if err != nil {
				return err
			}
			if err := bkt.Put(r.key, v); err != nil {
				return err
			}
		}
	}
	return nil
}

func writeLockFile(dir string, now time.Time) error {
	host, _ := os.Hostname()
	data, err := json.Marshal(LockInfo{PID: os.Getpid(), Hostname: host, StartedAt: now.UTC()})
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, LockFileName+".tmp")
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("write lock file: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, LockFileName)); err != nil {
		return fmt.Errorf("write lock file: %w", err)
	}
	return nil
}

// ReadLockInfo reads the lock file of a state directory.
func ReadLockInfo(dir string) (LockInfo, error) {
	var li LockInfo
	data, err := os.ReadFile(filepath.Join(dir, LockFileName))
	if err != nil {
		return li, err
	}
	if err := json.Unmarshal(data, &li); err != nil {
		return li, fmt.Errorf("parse %s: %w", LockFileName, err)
	}
	return li, nil
}

func lockedError(dir string) error {
	li, err := ReadLockInfo(dir)
	if err != nil || li.PID == 0 {
		return fmt.Errorf("%w: state directory %s is in use by another process (no readable %s); stop it or use another state_dir", ErrLocked, dir, LockFileName)
	}
	return fmt.Errorf("%w: state directory %s is in use by lethe pid %d on host %s since %s; stop it or use another state_dir",
		ErrLocked, dir, li.PID, li.Hostname, li.StartedAt.Format(time.RFC3339))
}

// Close waits for the write in progress, closes the database and removes
// the lock file. Later calls fail. It is safe to call more than once.
func (b *Bolt) Close() error {
	b.closeOnce.Do(func() {
		b.w.close()
		// Remove the lock file while still holding the flock, so it never
		// names a process that no longer holds the directory.
		if err := os.Remove(filepath.Join(b.dir, LockFileName)); err != nil && !errors.Is(err, os.ErrNotExist) {
			b.closeErr = fmt.Errorf("remove lock file: %w", err)
		}
		if err := b.db.Close(); err != nil {
			b.closeErr = fmt.Errorf("close state file: %w", err)
		}
	})
	return b.closeErr
}

// Ping checks that the store can be read.
func (b *Bolt) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return b.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bktRequests) == nil {
			return errors.New("state file has no requests bucket")
		}
		return nil
	})
}

// ----- key encodings and validation -----

// encTime encodes t so that byte order is time order (also before 1970).
func encTime(t time.Time) []byte {
	return binary.BigEndian.AppendUint64(nil, uint64(t.UnixNano())^(1<<63))
}

func decTime(b []byte) time.Time {
	return time.Unix(0, int64(binary.BigEndian.Uint64(b)^(1<<63))).UTC()
}

// maxTimeKey sorts after every encoded time.
var maxTimeKey = binary.BigEndian.AppendUint64(nil, math.MaxUint64)

func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

func cat(parts ...[]byte) []byte {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	out := make([]byte, 0, n)
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

var idRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)

func checkID(id string) error {
	if !idRE.MatchString(id) {
		return fmt.Errorf("invalid request id %q: use 1-128 letters, digits, '_' or '-'", id)
	}
	return nil
}

// checkName validates names stored in keys (nodes, blobs, identity names,
// external ids): non-empty, bounded, no NUL.
func checkName(what, s string, max int) error {
	if s == "" {
		return fmt.Errorf("%s is empty", what)
	}
	if len(s) > max {
		return fmt.Errorf("%s is %d bytes long, at most %d allowed", what, len(s), max)
	}
	if strings.IndexByte(s, 0) >= 0 {
		return fmt.Errorf("%s contains a NUL byte", what)
	}
	return nil
}

func checkNode(phase Phase, node string) error {
	if !phase.Valid() {
		return fmt.Errorf("invalid phase %q: use access, erasure or upload", phase)
	}
	return checkName("node name", node, 1024)
}

func nodeKey(phase Phase, node string) []byte {
	return []byte(string(phase) + "\x00" + node)
}
