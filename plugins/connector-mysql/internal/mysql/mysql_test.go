package mysql

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	mysqldrv "github.com/go-sql-driver/mysql"

	"github.com/lethehq/lethe/plugins/connector-mysql/internal/mytest"
	"github.com/lethehq/lethe/sdk/connector"
	"github.com/lethehq/lethe/sdk/fault"
	"github.com/lethehq/lethe/sdk/schema"
	"github.com/lethehq/lethe/sdk/value"
)

var testCols = map[string]column{
	"id":     {kind: kInt, decl: "bigint(20)"},
	"email":  {kind: kText, decl: "varchar(255)"},
	"doc":    {kind: kJSON, decl: "longtext"},
	"we`ird": {kind: kText, decl: "text"},
}

func TestBuildSelect(t *testing.T) {
	tests := []struct {
		name string
		req  connector.AccessRequest
		sql  string
		args []any
		err  string
	}{
		{
			name: "flat",
			req: connector.AccessRequest{Fields: []connector.Path{{"id"}, {"email"}},
				Filters: []connector.Filter{{Field: connector.Path{"email"}, Values: []any{"a@x", "b@x"}}}},
			sql:  "SELECT `id`, `email` FROM `t` WHERE `email` IN (?, ?)",
			args: []any{"a@x", "b@x"},
		},
		{
			name: "filters are ORed, text key bound as integer, limit",
			req: connector.AccessRequest{Fields: []connector.Path{{"id"}}, Limit: 5,
				Filters: []connector.Filter{{Field: connector.Path{"email"}, Values: []any{"a@x"}}, {Field: connector.Path{"id"}, Values: []any{"7"}}}},
			sql:  "SELECT `id` FROM `t` WHERE `email` IN (?) OR `id` IN (?) LIMIT 5",
			args: []any{"a@x", int64(7)},
		},
		{
			name: "nested filter compares the unquoted member",
			req: connector.AccessRequest{Fields: []connector.Path{{"doc", "a"}, {"doc", "b"}},
				Filters: []connector.Filter{{Field: connector.Path{"doc", "a", "b"}, Values: []any{"x", int64(5), true}}}},
			sql:  "SELECT `doc` FROM `t` WHERE JSON_UNQUOTE(JSON_EXTRACT(`doc`, ?)) IN (?, ?, ?)",
			args: []any{`$."a"."b"`, "x", "5", "true"},
		},
		{
			name: "odd identifiers are quoted",
			req: connector.AccessRequest{Fields: []connector.Path{{"we`ird"}},
				Filters: []connector.Filter{{Field: connector.Path{"we`ird"}, Values: []any{"'; DROP TABLE t; --"}}}},
			sql:  "SELECT `we``ird` FROM `t` WHERE `we``ird` IN (?)",
			args: []any{"'; DROP TABLE t; --"},
		},
		{name: "unknown column", req: connector.AccessRequest{Fields: []connector.Path{{"nope"}}, Filters: []connector.Filter{{Field: connector.Path{"id"}, Values: []any{int64(1)}}}}, err: `has no column "nope"`},
		{name: "no filter", req: connector.AccessRequest{Fields: []connector.Path{{"id"}}}, err: "without a filter"},
		{name: "empty filter", req: connector.AccessRequest{Fields: []connector.Path{{"id"}}, Filters: []connector.Filter{{Field: connector.Path{"id"}}}}, err: "has no values"},
		{name: "nested in a text column", req: connector.AccessRequest{Fields: []connector.Path{{"email", "x"}}, Filters: []connector.Filter{{Field: connector.Path{"email", "x"}, Values: []any{"a"}}}}, err: "not JSON"},
		{name: "quote in a member name", req: connector.AccessRequest{Fields: []connector.Path{{"doc"}}, Filters: []connector.Filter{{Field: connector.Path{"doc", `a"b`}, Values: []any{"a"}}}}, err: "member name"},
		{name: "bad integer", req: connector.AccessRequest{Fields: []connector.Path{{"id"}}, Filters: []connector.Filter{{Field: connector.Path{"id"}, Values: []any{"abc"}}}}, err: "not an integer"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q, err := buildSelect(testCols, "t", tc.req)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || fault.KindOf(err) != fault.Permanent {
					t.Fatalf("error %v, want permanent %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if q.sql != tc.sql {
				t.Errorf("sql\n got %s\nwant %s", q.sql, tc.sql)
			}
			if !reflect.DeepEqual(q.args, tc.args) {
				t.Errorf("args %#v, want %#v", q.args, tc.args)
			}
		})
	}
}

func TestBuildUpdate(t *testing.T) {
	tests := []struct {
		name string
		u    connector.RowUpdate
		sql  string
		args []any
		err  string
	}{
		{
			name: "flat",
			u:    connector.RowUpdate{Key: connector.Row{"id": int64(1)}, Set: connector.Row{"email": nil}},
			sql:  "UPDATE `t` SET `email` = ? WHERE `id` = ?",
			args: []any{nil, int64(1)},
		},
		{
			name: "nested members in one JSON_REPLACE",
			u:    connector.RowUpdate{Key: connector.Row{"id": "3"}, Set: connector.Row{"doc.a": "x", "doc.b.c": nil}},
			sql:  "UPDATE `t` SET `doc` = JSON_REPLACE(`doc`, ?, JSON_EXTRACT(?, '$'), ?, JSON_EXTRACT(?, '$')) WHERE `id` = ?",
			args: []any{`$."a"`, `"x"`, `$."b"."c"`, `null`, int64(3)},
		},
		{name: "no key", u: connector.RowUpdate{Set: connector.Row{"email": nil}}, err: "has no key"},
		{name: "null key", u: connector.RowUpdate{Key: connector.Row{"id": nil}, Set: connector.Row{"email": nil}}, err: "is NULL"},
		{name: "nothing set", u: connector.RowUpdate{Key: connector.Row{"id": int64(1)}}, err: "sets no field"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q, err := buildUpdate(testCols, "t", tc.u)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if q.sql != tc.sql {
				t.Errorf("sql\n got %s\nwant %s", q.sql, tc.sql)
			}
			if !reflect.DeepEqual(q.args, tc.args) {
				t.Errorf("args %#v, want %#v", q.args, tc.args)
			}
		})
	}
}

func TestTypeOfAndDecode(t *testing.T) {
	tests := []struct {
		dataType, colType string
		raw               any
		want              any
	}{
		{"tinyint", "tinyint(1)", int64(1), true},
		{"tinyint", "tinyint(4)", int64(7), int64(7)},
		{"bigint", "bigint(20) unsigned", uint64(18446744073709551615), value.Decimal("18446744073709551615")},
		{"bigint", "bigint(20) unsigned", uint64(5), int64(5)},
		{"decimal", "decimal(10,2)", []byte("24.50"), value.Decimal("24.50")},
		{"float", "float", float32(1.5), float64(1.5)},
		{"varchar", "varchar(10)", []byte("héllo"), "héllo"},
		{"varbinary", "varbinary(4)", []byte{0xff, 0}, []byte{0xff, 0}},
		{"json", "json", []byte(`{"n":12345678901234567,"f":1.5,"l":[1,"a",null]}`), map[string]any{"n": int64(12345678901234567), "f": 1.5, "l": []any{int64(1), "a", nil}}},
		{"datetime", "datetime(6)", time.Date(2024, 3, 1, 10, 0, 0, 123456000, time.FixedZone("x", 3600)), time.Date(2024, 3, 1, 9, 0, 0, 123456000, time.UTC)},
		{"text", "text", nil, nil},
	}
	for _, tc := range tests {
		got := decode(tc.raw, typeOf(tc.dataType, tc.colType))
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("decode(%#v) as %s = %#v, want %#v", tc.raw, tc.colType, got, tc.want)
		}
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		err  error
		want fault.Kind
	}{
		{&mysqldrv.MySQLError{Number: 1213}, fault.Transient},
		{&mysqldrv.MySQLError{Number: 1205}, fault.Transient},
		{&mysqldrv.MySQLError{Number: 1969}, fault.Transient},
		{&mysqldrv.MySQLError{Number: 3024}, fault.Transient},
		{&mysqldrv.MySQLError{Number: 1146}, fault.Permanent},
		{&mysqldrv.MySQLError{Number: 1054}, fault.Permanent},
		{&mysqldrv.MySQLError{Number: 1045}, fault.Permanent},
		{&mysqldrv.MySQLError{Number: 1406}, fault.Permanent},
		{driver.ErrBadConn, fault.Transient},
		{io.ErrUnexpectedEOF, fault.Transient},
	}
	for _, tc := range tests {
		if got := fault.KindOf(classify(fmt.Errorf("op: %w", tc.err))); got != tc.want {
			t.Errorf("classify(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
	if !errors.Is(classify(context.Canceled), context.Canceled) {
		t.Error("cancellation must stay a cancellation")
	}
}

func TestDriverConfig(t *testing.T) {
	mc, err := driverConfig(schema.Config{"host": "db.internal", "port": int64(3307), "user": "lethe", "password": "pw", "dbname": "shop"})
	if err != nil {
		t.Fatal(err)
	}
	if mc.Addr != "db.internal:3307" || mc.User != "lethe" || mc.Passwd != "pw" || mc.DBName != "shop" ||
		!mc.ParseTime || mc.Loc != time.UTC || !mc.ClientFoundRows || mc.Params["time_zone"] != "'+00:00'" {
		t.Errorf("config %+v", mc)
	}
	if _, err := driverConfig(schema.Config{"dsn": "u@tcp(h:3306)/db", "user": "x"}); err == nil || !strings.Contains(err.Error(), "both dsn and user") {
		t.Errorf("dsn and parts: %v", err)
	}
	if _, err := driverConfig(schema.Config{"dsn": "u:pw@tcp(h:3306)/"}); err == nil || !strings.Contains(err.Error(), "no database named") {
		t.Errorf("dsn without a database: %v", err)
	}
	_, err = driverConfig(schema.Config{"dsn": "lethe:s3cret-pw@tcp(h:3306/db"})
	if err == nil || strings.Contains(err.Error(), "s3cret-pw") {
		t.Errorf("a bad DSN must fail without printing its password: %v", err)
	}
}

func openTest(t *testing.T, ddl string, extra schema.Config) (*Conn, string) {
	t.Helper()
	dsn := mytest.NewDatabase(t, "lethe_my_unit")
	if _, err := mytest.Open(t, dsn).Exec(ddl); err != nil {
		t.Fatal(err)
	}
	cfg := schema.Config{"dsn": dsn, "max_connections": int64(4), "statement_timeout": 10 * time.Second}
	for k, v := range extra {
		cfg[k] = v
	}
	inst, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inst.Close(context.Background()) })
	return inst.(*Conn), dsn
}

type collect []connector.Row

func (c *collect) Write(r connector.Row) error { *c = append(*c, r); return nil }

func TestNestedJSONAndOddNames(t *testing.T) {
	c, dsn := openTest(t, "CREATE TABLE `User Rows` (id INT PRIMARY KEY, doc JSON, `e-mail` VARCHAR(100), amount DECIMAL(30,10), seen DATETIME(6), flag BOOLEAN);"+
		"INSERT INTO `User Rows` VALUES (1, '{\"email\":\"a@x\",\"n\":12345678901234567,\"keep\":{\"k\":1}}', 'a@x', 12345678901234567890.0123456789, '2024-03-01 10:00:00.123456', TRUE),"+
		"(2, '{\"email\":\"b@x\"}', 'b@x', 1, NULL, FALSE)", schema.Config{})
	ctx := context.Background()
	coll := connector.Collection{Name: "User Rows"}
	var rows collect
	err := c.Access(ctx, connector.AccessRequest{Collection: coll,
		Fields:  []connector.Path{{"id"}, {"doc", "email"}, {"e-mail"}, {"amount"}, {"seen"}, {"flag"}},
		Filters: []connector.Filter{{Field: connector.Path{"doc", "email"}, Values: []any{"a@x"}}}}, &rows)
	if err != nil {
		t.Fatal(err)
	}
	want := connector.Row{
		"id": int64(1), "doc": map[string]any{"email": "a@x", "n": int64(12345678901234567), "keep": map[string]any{"k": int64(1)}},
		"e-mail": "a@x", "amount": value.Decimal("12345678901234567890.0123456789"),
		"seen": time.Date(2024, 3, 1, 10, 0, 0, 123456000, time.UTC), "flag": true,
	}
	if len(rows) != 1 || !reflect.DeepEqual(rows[0], want) {
		t.Fatalf("rows %#v\nwant %#v", rows, want)
	}
	n, err := c.Erase(ctx, connector.EraseRequest{Collection: coll, Updates: []connector.RowUpdate{
		{Key: connector.Row{"id": int64(1)}, Set: connector.Row{"doc.email": "MASKED", "doc.keep.k": nil, "doc.missing": "x", "e-mail": nil}},
		{Key: connector.Row{"id": int64(99)}, Set: connector.Row{"e-mail": nil}},
	}})
	if err != nil || n != 1 {
		t.Fatalf("erase: %d, %v", n, err)
	}
	rows = nil
	if err := c.Access(ctx, connector.AccessRequest{Collection: coll, Fields: []connector.Path{{"doc"}, {"e-mail"}},
		Filters: []connector.Filter{{Field: connector.Path{"id"}, Values: []any{int64(1), int64(2)}}}}, &rows); err != nil {
		t.Fatal(err)
	}
	got := map[string]any{}
	for _, r := range rows {
		got[fmt.Sprint(r["doc"].(map[string]any)["email"])] = r
	}
	want1 := connector.Row{"doc": map[string]any{"email": "MASKED", "n": int64(12345678901234567), "keep": map[string]any{"k": nil}}, "e-mail": nil}
	want2 := connector.Row{"doc": map[string]any{"email": "b@x"}, "e-mail": "b@x"}
	if !reflect.DeepEqual(got["MASKED"], want1) || !reflect.DeepEqual(got["b@x"], want2) {
		t.Errorf("after erase: %#v", rows)
	}
	sql, err := c.DryRun(ctx, connector.AccessRequest{Collection: coll, Fields: []connector.Path{{"id"}}, Filters: []connector.Filter{{Field: connector.Path{"e-mail"}, Values: []any{"a", "b"}}}})
	if err != nil || sql != "SELECT `id` FROM `User Rows` WHERE `e-mail` IN (?, ?)" {
		t.Errorf("dry run: %s %v", sql, err)
	}
	_ = dsn
}

func TestEraseBatchIsAtomic(t *testing.T) {
	c, dsn := openTest(t, "CREATE TABLE t (id INT PRIMARY KEY, email VARCHAR(10), n INT); INSERT INTO t VALUES (1, 'a', 1), (2, 'b', 2)", schema.Config{})
	ctx := context.Background()
	_, err := c.Erase(ctx, connector.EraseRequest{Collection: connector.Collection{Name: "t"}, Updates: []connector.RowUpdate{
		{Key: connector.Row{"id": int64(1)}, Set: connector.Row{"email": "MASKED"}},
		{Key: connector.Row{"id": int64(2)}, Set: connector.Row{"email": "a value much too long for ten"}},
	}})
	if err == nil || fault.KindOf(err) != fault.Permanent {
		t.Fatalf("a bad update must fail the batch permanently: %v", err)
	}
	var email string
	if err := mytest.Open(t, dsn).QueryRow("SELECT email FROM t WHERE id = 1").Scan(&email); err != nil || email != "a" {
		t.Errorf("row 1 changed although its batch failed: %q %v", email, err)
	}
}

func TestReadOnly(t *testing.T) {
	c, _ := openTest(t, "CREATE TABLE t (id INT PRIMARY KEY, email TEXT); INSERT INTO t VALUES (1, 'a')", schema.Config{"read_only": true})
	_, err := c.Erase(context.Background(), connector.EraseRequest{Collection: connector.Collection{Name: "t"},
		Updates: []connector.RowUpdate{{Key: connector.Row{"id": int64(1)}, Set: connector.Row{"email": nil}}}})
	if err == nil || fault.KindOf(err) != fault.Permanent || !strings.Contains(err.Error(), "read_only") {
		t.Fatalf("erase on a read-only connection: %v", err)
	}
}

func TestStatementTimeoutIsTransient(t *testing.T) {
	c, _ := openTest(t, "CREATE TABLE t (id INT PRIMARY KEY, email TEXT); INSERT INTO t VALUES (1, 'a');"+
		"CREATE VIEW v AS SELECT id, CONCAT(SLEEP(3), email) AS email FROM t",
		schema.Config{"statement_timeout": 200 * time.Millisecond})
	var rows collect
	start := time.Now()
	err := c.Access(context.Background(), connector.AccessRequest{Collection: connector.Collection{Name: "v"},
		Fields: []connector.Path{{"id"}, {"email"}}, Filters: []connector.Filter{{Field: connector.Path{"id"}, Values: []any{int64(1)}}}}, &rows)
	if !c.mariadb {
		t.Skip("MySQL's max_execution_time does not stop SLEEP in a view the same way; checked on MariaDB")
	}
	if err == nil || fault.KindOf(err) != fault.Transient {
		t.Fatalf("statement timeout: %v (rows %v)", err, rows)
	}
	if d := time.Since(start); d > 2500*time.Millisecond {
		t.Errorf("the statement ran %s despite a 200ms timeout", d)
	}
}

func TestNewReportsWhatToFix(t *testing.T) {
	cfg := mytest.ServerConfig(t)
	cfg.DBName = "lethe_missing_db"
	for _, tc := range []struct {
		cfg  schema.Config
		want string
	}{
		{schema.Config{}, "no database named"},
		{schema.Config{"dsn": cfg.FormatDSN()}, "lethe_missing_db"},
	} {
		_, err := New(context.Background(), tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) || fault.KindOf(err) != fault.Permanent {
			t.Errorf("New(%v) = %v, want permanent error mentioning %q", tc.cfg, err, tc.want)
		}
	}
}
