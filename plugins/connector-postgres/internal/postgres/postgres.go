package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lethehq/lethe/sdk/connector"
	"github.com/lethehq/lethe/sdk/fault"
	"github.com/lethehq/lethe/sdk/schema"
)

// Definition returns the plugin's definition; version is the plugin's
// semantic version.
func Definition(version string) connector.Definition {
	return connector.Definition{
		Name:        "postgres",
		Version:     version,
		Description: "Reads and masks rows in a PostgreSQL database.",
		DryRun:      true,
		Config: schema.Schema{Attributes: []schema.Attribute{
			{Name: "dsn", Type: schema.String, Sensitive: true, Destination: true, Description: "A connection string (postgres://user:pass@host:5432/db?sslmode=require or key=value form). Set either dsn or host, port, user, password and dbname."},
			{Name: "host", Type: schema.String, Destination: true, Description: "The server's host name or address."},
			{Name: "port", Type: schema.Int, Destination: true, Description: "The server's port; 5432 when unset."},
			{Name: "user", Type: schema.String, Description: "The role to connect as."},
			{Name: "password", Type: schema.String, Sensitive: true, Description: "The role's password."},
			{Name: "dbname", Type: schema.String, Description: "The database to connect to."},
			{Name: "sslmode", Type: schema.String, Destination: true, Description: "disable, allow, prefer, require, verify-ca or verify-full; prefer when unset."},
			{Name: "schema", Type: schema.String, Default: "public", Description: "The schema that holds the dataset's tables."},
			{Name: "max_connections", Type: schema.Int, Default: int64(4), Description: "The most connections the pool opens."},
			{Name: "statement_timeout", Type: schema.Duration, Default: 30 * time.Second, Description: "The longest one statement may run, such as \"30s\"; 0 for no limit."},
			{Name: "read_only", Type: schema.Bool, Default: false, Description: "Open read-only sessions; erasure is then refused."},
		}},
		New: New,
	}
}

// Conn is one configured database. It is safe for concurrent use.
type Conn struct {
	pool     *pgxpool.Pool
	schema   string
	readOnly bool
	where    string // host/database for messages, without credentials

	mu     sync.Mutex
	tables map[string]map[string]column // table -> column -> type
}

// New opens a pool on the database of cfg and checks that it answers.
func New(ctx context.Context, cfg schema.Config) (connector.Instance, error) {
	pc, err := poolConfig(cfg)
	if err != nil {
		return nil, err
	}
	applyEgress(ctx, pc)
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fault.AsPermanent(fmt.Errorf("postgres connection settings: %w", err))
	}
	c := &Conn{
		pool:     pool,
		schema:   cfg.String("schema"),
		readOnly: cfg.Bool("read_only"),
		where:    fmt.Sprintf("%s:%d/%s", pc.ConnConfig.Host, pc.ConnConfig.Port, pc.ConnConfig.Database),
		tables:   map[string]map[string]column{},
	}
	if c.schema == "" {
		c.schema = "public"
	}
	pingCtx, cancel := context.WithTimeout(ctx, pc.ConnConfig.ConnectTimeout+5*time.Second)
	defer cancel()
	if err := c.Test(pingCtx); err != nil {
		pool.Close()
		return nil, err
	}
	return c, nil
}

// poolConfig builds the pool's configuration from dsn or from its parts.
func poolConfig(cfg schema.Config) (*pgxpool.Config, error) {
	parts := []string{"host", "port", "user", "password", "dbname", "sslmode"}
	var set []string
	for _, p := range parts {
		if _, ok := cfg[p]; ok {
			set = append(set, p)
		}
	}
	var connString string
	switch dsn := cfg.String("dsn"); {
	case dsn != "" && len(set) > 0:
		return nil, fault.AsPermanent(fmt.Errorf("both dsn and %s are set; set either dsn or the connection's parts", strings.Join(set, ", ")))
	case dsn != "":
		connString = dsn
	default:
		if cfg.String("dbname") == "" {
			return nil, fault.AsPermanent(errors.New("no database named: set dsn, or host, user and dbname"))
		}
		kv := map[string]string{
			"host":    cfg.String("host"),
			"user":    cfg.String("user"),
			"dbname":  cfg.String("dbname"),
			"sslmode": cfg.String("sslmode"),
		}
		if kv["host"] == "" {
			kv["host"] = "127.0.0.1"
		}
		if p := cfg.Int("port"); p != 0 {
			if p < 1 || p > 65535 {
				return nil, fault.AsPermanent(fmt.Errorf("port %d is out of range 1..65535", p))
			}
			kv["port"] = strconv.FormatInt(p, 10)
		}
		if pw, ok := cfg["password"].(string); ok {
			kv["password"] = pw
		}
		keys := make([]string, 0, len(kv))
		for k, v := range kv {
			if v != "" {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		var b strings.Builder
		for _, k := range keys {
			// key='value' with \ and ' escaped, as libpq reads it.
			fmt.Fprintf(&b, "%s='%s' ", k, strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(kv[k]))
		}
		connString = b.String()
	}
	pc, err := pgxpool.ParseConfig(connString)
	if err != nil {
		// pgconn redacts the password in its parse errors.
		return nil, fault.AsPermanent(fmt.Errorf("postgres connection settings: %w", err))
	}
	if n := cfg.Int("max_connections"); n > 0 {
		if n > 1000 {
			return nil, fault.AsPermanent(fmt.Errorf("max_connections %d is more than 1000", n))
		}
		pc.MaxConns = int32(n)
	} else if _, ok := cfg["max_connections"]; ok {
		return nil, fault.AsPermanent(fmt.Errorf("max_connections must be at least 1, not %d", n))
	}
	pc.MinConns = 0
	pc.MaxConnIdleTime = time.Minute
	if pc.ConnConfig.ConnectTimeout == 0 {
		pc.ConnConfig.ConnectTimeout = 10 * time.Second
	}
	rp := pc.ConnConfig.RuntimeParams
	if rp["application_name"] == "" {
		rp["application_name"] = "lethe"
	}
	if d := cfg.Duration("statement_timeout"); d > 0 {
		rp["statement_timeout"] = strconv.FormatInt(max(d.Milliseconds(), 1), 10)
	} else if d < 0 {
		return nil, fault.AsPermanent(fmt.Errorf("statement_timeout %s is negative", d))
	}
	if cfg.Bool("read_only") {
		rp["default_transaction_read_only"] = "on"
	}
	pc.AfterConnect = registerJSON
	return pc, nil
}

// registerJSON makes json and jsonb decode numbers exactly: whole numbers
// become int64, not float64.
func registerJSON(_ context.Context, conn *pgx.Conn) error {
	tm := conn.TypeMap()
	unmarshal := func(data []byte, v any) error {
		dec := json.NewDecoder(strings.NewReader(string(data)))
		dec.UseNumber()
		if err := dec.Decode(v); err != nil {
			return err
		}
		if p, ok := v.(*any); ok {
			*p = fromJSON(*p)
		}
		return nil
	}
	if t, ok := tm.TypeForName("json"); ok {
		tm.RegisterType(&pgtype.Type{Name: "json", OID: t.OID, Codec: &pgtype.JSONCodec{Marshal: json.Marshal, Unmarshal: unmarshal}})
	}
	if t, ok := tm.TypeForName("jsonb"); ok {
		tm.RegisterType(&pgtype.Type{Name: "jsonb", OID: t.OID, Codec: &pgtype.JSONBCodec{Marshal: json.Marshal, Unmarshal: unmarshal}})
	}
	return nil
}

// Test checks that the database answers a query.
func (c *Conn) Test(ctx context.Context) error {
	var one int
	if err := c.pool.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
		return classify(fmt.Errorf("connect to postgres %s: %w", c.where, err))
	}
	return nil
}

// Close closes the pool.
func (c *Conn) Close(context.Context) error {
	c.pool.Close()
	return nil
}

// quote quotes an identifier: double quotes, inner quotes doubled.
func quote(id string) (string, error) {
	if id == "" || strings.ContainsRune(id, 0) {
		return "", fault.AsPermanent(fmt.Errorf("invalid identifier %q: empty or containing NUL", id))
	}
	return `"` + strings.ReplaceAll(id, `"`, `""`) + `"`, nil
}

// table returns the schema-qualified, quoted name of table.
func (c *Conn) table(name string) (string, error) {
	qs, err := quote(c.schema)
	if err != nil {
		return "", err
	}
	qt, err := quote(name)
	if err != nil {
		return "", err
	}
	return qs + "." + qt, nil
}

// columns returns the columns of table, read once and again when fresh.
func (c *Conn) columns(ctx context.Context, table string, fresh bool) (map[string]column, error) {
	if !fresh {
		c.mu.Lock()
		cols, ok := c.tables[table]
		c.mu.Unlock()
		if ok {
			return cols, nil
		}
	}
	if _, err := c.table(table); err != nil {
		return nil, err
	}
	rows, err := c.pool.Query(ctx, `SELECT column_name, data_type, udt_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2`, c.schema, table)
	if err != nil {
		return nil, classify(fmt.Errorf("read the columns of table %q: %w", table, err))
	}
	defer rows.Close()
	cols := map[string]column{}
	for rows.Next() {
		var name, dataType, udt string
		if err := rows.Scan(&name, &dataType, &udt); err != nil {
			return nil, classify(fmt.Errorf("read the columns of table %q: %w", table, err))
		}
		cols[name] = typeOf(dataType, udt)
	}
	if err := rows.Err(); err != nil {
		return nil, classify(fmt.Errorf("read the columns of table %q: %w", table, err))
	}
	if len(cols) == 0 {
		return nil, fault.AsPermanent(fmt.Errorf("table %q does not exist in schema %q of %s (or the role may not read it)", table, c.schema, c.where))
	}
	c.mu.Lock()
	c.tables[table] = cols
	c.mu.Unlock()
	return cols, nil
}

// withColumns runs build with the columns of table, and once more with
// freshly read columns when build finds a column unknown: the table may
// have changed since it was first read.
func withColumns[T any](ctx context.Context, c *Conn, table string, build func(map[string]column) (T, error)) (T, error) {
	cols, err := c.columns(ctx, table, false)
	if err != nil {
		var zero T
		return zero, err
	}
	out, err := build(cols)
	var unknown *unknownColumnError
	if errors.As(err, &unknown) {
		if cols, err = c.columns(ctx, table, true); err != nil {
			var zero T
			return zero, err
		}
		return build(cols)
	}
	return out, err
}

// classify marks errors a retry may fix as transient and those it cannot
// as permanent, by SQLSTATE class; others stay unclassified (retried a few
// times by the host).
func classify(err error) error {
	if err == nil {
		return nil
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		code := pgErr.Code
		switch {
		case code == "40001", code == "40P01", // serialization failure, deadlock
			code == "55P03",                                   // lock not available
			code == "57014",                                   // statement timeout / cancelled
			strings.HasPrefix(code, "08"),                     // connection exception
			strings.HasPrefix(code, "53"),                     // insufficient resources
			code == "57P01", code == "57P02", code == "57P03": // shutdown, cannot connect now
			return fault.AsTransient(err)
		case strings.HasPrefix(code, "42"), // syntax, undefined table or column, privilege
			strings.HasPrefix(code, "22"),    // data exception
			strings.HasPrefix(code, "23"),    // integrity constraint
			strings.HasPrefix(code, "28"),    // invalid authorization
			code == "3D000", code == "3F000", // unknown database, schema
			code == "25006": // read-only transaction
			return fault.AsPermanent(err)
		}
		return err
	}
	var netErr net.Error
	switch {
	case errors.Is(err, context.Canceled):
		return err
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), pgconn.SafeToRetry(err), pgconn.Timeout(err):
		return fault.AsTransient(err)
	}
	var connErr *pgconn.ConnectError
	if errors.As(err, &connErr) {
		return fault.AsTransient(err)
	}
	return err
}
