package mysql

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/lethehq/lethe/sdk/connector"
	"github.com/lethehq/lethe/sdk/fault"
	"github.com/lethehq/lethe/sdk/schema"
)

// Definition returns the plugin's definition; version is the plugin's
// semantic version.
func Definition(version string) connector.Definition {
	return connector.Definition{
		Name:        "mysql",
		Version:     version,
		Description: "Reads and masks rows in a MySQL or MariaDB database.",
		DryRun:      true,
		Config: schema.Schema{Attributes: []schema.Attribute{
			{Name: "dsn", Type: schema.String, Sensitive: true, Destination: true, Description: "A go-sql-driver DSN such as user:pass@tcp(host:3306)/db?tls=true. Set either dsn or host, port, user, password and dbname."},
			{Name: "host", Type: schema.String, Destination: true, Description: "The server's host name or address; 127.0.0.1 when unset."},
			{Name: "port", Type: schema.Int, Destination: true, Description: "The server's port; 3306 when unset."},
			{Name: "user", Type: schema.String, Description: "The user to connect as."},
			{Name: "password", Type: schema.String, Sensitive: true, Description: "The user's password."},
			{Name: "dbname", Type: schema.String, Description: "The database (schema) that holds the dataset's tables."},
			{Name: "max_connections", Type: schema.Int, Default: int64(4), Description: "The most connections the pool opens."},
			{Name: "statement_timeout", Type: schema.Duration, Default: 30 * time.Second, Description: "The longest one statement may run, such as \"30s\"; 0 for no limit (MariaDB max_statement_time, MySQL max_execution_time)."},
			{Name: "read_only", Type: schema.Bool, Default: false, Description: "Refuse erasure on this connection."},
		}},
		New: New,
	}
}

// Conn is one configured database. It is safe for concurrent use.
type Conn struct {
	db       *sql.DB
	dbname   string
	mariadb  bool
	readOnly bool
	where    string // host/database for messages, without credentials

	mu     sync.Mutex
	tables map[string]map[string]column
}

// New opens a pool on the database of cfg and checks that it answers.
func New(ctx context.Context, cfg schema.Config) (connector.Instance, error) {
	mc, err := driverConfig(cfg)
	if err != nil {
		return nil, err
	}
	applyEgress(ctx, mc)
	timeout := cfg.Duration("statement_timeout")
	if timeout < 0 {
		return nil, fault.AsPermanent(fmt.Errorf("statement_timeout %s is negative; use 0 for no limit", timeout))
	}
	conns := int64(4)
	if _, ok := cfg["max_connections"]; ok {
		conns = cfg.Int("max_connections")
	}
	if conns < 1 || conns > 1000 {
		return nil, fault.AsPermanent(fmt.Errorf("max_connections %d is out of range 1..1000", conns))
	}
	c := &Conn{dbname: mc.DBName, readOnly: cfg.Bool("read_only"), where: mc.Addr + "/" + mc.DBName, tables: map[string]map[string]column{}}
	pingCtx, cancel := context.WithTimeout(ctx, mc.Timeout+5*time.Second)
	defer cancel()
	// One connection first, to learn the flavour: the statement timeout
	// is a different session variable on MariaDB and MySQL, and the
	// driver sets session variables from the DSN on every new connection.
	probe, err := open(mc, 1)
	if err != nil {
		return nil, err
	}
	var version string
	err = probe.QueryRowContext(pingCtx, "SELECT VERSION()").Scan(&version)
	probe.Close()
	if err != nil {
		return nil, connectError(c.where, mc, err)
	}
	c.mariadb = strings.Contains(strings.ToLower(version), "mariadb")
	if timeout > 0 {
		if c.mariadb {
			mc.Params["max_statement_time"] = strconv.FormatFloat(timeout.Seconds(), 'f', -1, 64) // seconds
		} else {
			mc.Params["max_execution_time"] = strconv.FormatInt(max(timeout.Milliseconds(), 1), 10) // milliseconds
		}
	}
	if c.db, err = open(mc, int(conns)); err != nil {
		return nil, err
	}
	var one int
	if err := c.db.QueryRowContext(pingCtx, "SELECT 1").Scan(&one); err != nil {
		c.db.Close()
		return nil, connectError(c.where, mc, err)
	}
	return c, nil
}

// connectError explains why New could not reach the database, naming what
// to check. It is permanent: the configuration cannot work as given (New's
// error becomes a configuration diagnostic; Test, later, reports a server
// that went away as transient). The message never holds the password: the
// driver's errors do not repeat it and where is host:port/database only.
func connectError(where string, mc *mysql.Config, err error) error {
	hint := ""
	var me *mysql.MySQLError
	var netErr net.Error
	switch {
	case errors.As(err, &me) && (me.Number == 1044 || me.Number == 1045 || me.Number == 1698):
		hint = fmt.Sprintf("; check user %q and its password, and that it may use database %q", mc.User, mc.DBName)
	case errors.As(err, &me) && me.Number == 1049:
		hint = fmt.Sprintf("; database %q does not exist: create it or correct the database name", mc.DBName)
	case errors.As(err, &netErr), errors.Is(err, context.DeadlineExceeded), errors.Is(err, driver.ErrBadConn),
		errors.Is(err, mysql.ErrInvalidConn), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		hint = "; the server does not answer: check host and port, and that MySQL or MariaDB is running"
	case errors.Is(err, context.Canceled):
		return err
	}
	return fault.AsPermanent(fmt.Errorf("connect to %s: %w%s", where, err, hint))
}

func open(mc *mysql.Config, conns int) (*sql.DB, error) {
	connector, err := mysql.NewConnector(mc)
	if err != nil {
		return nil, fault.AsPermanent(fmt.Errorf("mysql connection settings: %w", err))
	}
	db := sql.OpenDB(connector)
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	db.SetConnMaxIdleTime(time.Minute)
	db.SetConnMaxLifetime(30 * time.Minute)
	return db, nil
}

// driverConfig builds the driver's configuration from dsn or its parts,
// then forces what the connector relies on.
func driverConfig(cfg schema.Config) (*mysql.Config, error) {
	var set []string
	for _, p := range []string{"host", "port", "user", "password", "dbname"} {
		if _, ok := cfg[p]; ok {
			set = append(set, p)
		}
	}
	var mc *mysql.Config
	switch dsn := cfg.String("dsn"); {
	case dsn != "" && len(set) > 0:
		return nil, fault.AsPermanent(fmt.Errorf("both dsn and %s are set; set either dsn or the connection's parts", strings.Join(set, ", ")))
	case dsn != "":
		var err error
		if mc, err = mysql.ParseDSN(dsn); err != nil {
			// The driver's parse errors do not repeat the DSN.
			return nil, fault.AsPermanent(fmt.Errorf("dsn: %w", err))
		}
	default:
		mc = mysql.NewConfig()
		host := cfg.String("host")
		if host == "" {
			host = "127.0.0.1"
		}
		port := cfg.Int("port")
		if port == 0 {
			port = 3306
		}
		if port < 1 || port > 65535 {
			return nil, fault.AsPermanent(fmt.Errorf("port %d is out of range 1..65535", port))
		}
		mc.Net, mc.Addr = "tcp", net.JoinHostPort(host, strconv.FormatInt(port, 10))
		mc.User, mc.Passwd, mc.DBName = cfg.String("user"), cfg.String("password"), cfg.String("dbname")
	}
	if mc.DBName == "" {
		return nil, fault.AsPermanent(errors.New("no database named: set dbname, or name the database in dsn (user@tcp(host:3306)/DATABASE)"))
	}
	mc.ParseTime = true
	mc.Loc = time.UTC
	mc.ClientFoundRows = true    // rows matched, so a repeated Erase reports the same count
	mc.InterpolateParams = false // values travel as parameters, never spliced into SQL
	mc.MultiStatements = false
	if mc.Timeout == 0 {
		mc.Timeout = 10 * time.Second
	}
	if mc.Params == nil {
		mc.Params = map[string]string{}
	}
	mc.Params["time_zone"] = "'+00:00'"
	return mc, nil
}

// Test checks that the database answers a query.
func (c *Conn) Test(ctx context.Context) error {
	var one int
	if err := c.db.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return classify(fmt.Errorf("connect to %s: %w", c.where, err))
	}
	return nil
}

// Close closes the pool.
func (c *Conn) Close(context.Context) error { return c.db.Close() }

// quote quotes an identifier: backticks, inner backticks doubled.
func quote(id string) (string, error) {
	if id == "" || strings.ContainsRune(id, 0) {
		return "", fault.AsPermanent(fmt.Errorf("invalid identifier %q: empty or containing NUL", id))
	}
	return "`" + strings.ReplaceAll(id, "`", "``") + "`", nil
}

// jsonCheck matches MariaDB's check of a JSON column, json_valid(`doc`),
// with backticks inside the name doubled.
var jsonCheck = regexp.MustCompile("(?i)^\\s*json_valid\\(\\s*`((?:[^`]|``)+)`\\s*\\)\\s*$")

// jsonColumn returns the column a CHECK clause proves JSON, if any.
func jsonColumn(clause string) (string, bool) {
	m := jsonCheck.FindStringSubmatch(clause)
	if m == nil {
		return "", false
	}
	return strings.ReplaceAll(m[1], "``", "`"), true
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
	if _, err := quote(table); err != nil {
		return nil, err
	}
	rows, err := c.db.QueryContext(ctx, `SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?`, table)
	if err != nil {
		return nil, classify(fmt.Errorf("read the columns of table %q: %w", table, err))
	}
	cols := map[string]column{}
	for rows.Next() {
		var name, dataType, colType string
		if err := rows.Scan(&name, &dataType, &colType); err != nil {
			rows.Close()
			return nil, classify(fmt.Errorf("read the columns of table %q: %w", table, err))
		}
		cols[name] = typeOf(dataType, colType)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, classify(fmt.Errorf("read the columns of table %q: %w", table, err))
	}
	if len(cols) == 0 {
		return nil, fault.AsPermanent(fmt.Errorf("table %q does not exist in database %q of %s (or the user may not read it)", table, c.dbname, c.where))
	}
	if c.mariadb {
		// MariaDB's JSON is LONGTEXT with a CHECK (json_valid(col)).
		rows, err := c.db.QueryContext(ctx, `SELECT CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME = ?`, table)
		if err != nil {
			return nil, classify(fmt.Errorf("read the checks of table %q: %w", table, err))
		}
		for rows.Next() {
			var clause string
			if err := rows.Scan(&clause); err != nil {
				rows.Close()
				return nil, classify(fmt.Errorf("read the checks of table %q: %w", table, err))
			}
			if name, ok := jsonColumn(clause); ok {
				if col, ok := cols[name]; ok && col.kind == kText {
					col.kind = kJSON
					cols[name] = col
				}
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, classify(fmt.Errorf("read the checks of table %q: %w", table, err))
		}
	}
	c.mu.Lock()
	c.tables[table] = cols
	c.mu.Unlock()
	return cols, nil
}

// withColumns runs build with the columns of table, and once more with
// freshly read columns when build finds a column unknown.
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
// as permanent, by server error number; others stay unclassified.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		switch me.Number {
		case 1205, 1213, // lock wait timeout, deadlock
			1040, 1203, // too many connections
			1053,       // server shutdown
			2006, 2013, // server gone away, lost connection
			1927,       // connection killed (MariaDB)
			3024, 1969, // statement timeout (MySQL, MariaDB)
			1317: // query interrupted
			return fault.AsTransient(err)
		case 1044, 1045, 1698, 1049, 1054, 1146, 1064, 1142, 1143, 1227, // access, unknown database/column/table, syntax, privileges
			1290, 1836, 1792, // read-only
			1406, 1366, 1292, 1264, 1265, 3140, 4025, // bad values, JSON check
			1451, 1452, 1062, 1048: // constraints
			return fault.AsPermanent(err)
		}
		return err
	}
	var netErr net.Error
	switch {
	case errors.Is(err, context.Canceled):
		return err
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr), errors.Is(err, driver.ErrBadConn),
		errors.Is(err, mysql.ErrInvalidConn), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fault.AsTransient(err)
	}
	return err
}
