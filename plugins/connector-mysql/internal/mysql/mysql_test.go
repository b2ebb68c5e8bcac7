package mysql

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"reflect"
	"strconv"
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
	"a b":    {kind: kText, decl: "varchar(20)"},
	"u":      {kind: kUint, decl: "bigint(20) unsigned"},
	"x.y":    {kind: kText, decl: "varchar(20)"},
	"n":      {kind: kInt, decl: "int(11)"},
}

func TestBuildSelect(t *testing.T) {
	tests := []struct {
		name    string
		req     connector.AccessRequest
		sql     string
		args    []any
		err     string
		table   string // "t" when unset
		noTable bool   // the table name is empty
	}{
		{
			name: "flat",
			req: connector.AccessRequest{Fields: []connector.Path{{"id"}, {"email"}},
				Filters: []connector.Filter{{Field: connector.Path{"email"}, Values: []any{"a@x", "b@x"}}}},
			sql:  "SELECT `id`, `email` FROM `t` WHERE (`email` IN (?, ?) AND CAST(CONVERT(`email` USING utf8mb4) AS BINARY) IN (CAST(? AS BINARY), CAST(? AS BINARY)))",
			args: []any{"a@x", "b@x", "a@x", "b@x"},
		},
		{
			name: "filters are ORed, text key bound as integer, limit",
			req: connector.AccessRequest{Fields: []connector.Path{{"id"}}, Limit: 5,
				Filters: []connector.Filter{{Field: connector.Path{"email"}, Values: []any{"a@x"}}, {Field: connector.Path{"id"}, Values: []any{"7"}}}},
			sql:  "SELECT `id` FROM `t` WHERE (`email` IN (?) AND CAST(CONVERT(`email` USING utf8mb4) AS BINARY) IN (CAST(? AS BINARY))) OR `id` IN (?) LIMIT 5",
			args: []any{"a@x", "a@x", int64(7)},
		},
		{
			name: "nested filter compares the unquoted member",
			req: connector.AccessRequest{Fields: []connector.Path{{"doc", "a"}, {"doc", "b"}},
				Filters: []connector.Filter{{Field: connector.Path{"doc", "a", "b"}, Values: []any{"x", int64(5), true}}}},
			sql:  "SELECT `doc` FROM `t` WHERE CAST(CONVERT(JSON_UNQUOTE(JSON_EXTRACT(`doc`, ?)) USING utf8mb4) AS BINARY) IN (CAST(? AS BINARY), CAST(? AS BINARY), CAST(? AS BINARY))",
			args: []any{`$."a"."b"`, "x", "5", "true"},
		},
		{
			name: "odd identifiers are quoted",
			req: connector.AccessRequest{Fields: []connector.Path{{"we`ird"}},
				Filters: []connector.Filter{{Field: connector.Path{"we`ird"}, Values: []any{"'; DROP TABLE t; --"}}}},
			sql:  "SELECT `we``ird` FROM `t` WHERE (`we``ird` IN (?) AND CAST(CONVERT(`we``ird` USING utf8mb4) AS BINARY) IN (CAST(? AS BINARY)))",
			args: []any{"'; DROP TABLE t; --", "'; DROP TABLE t; --"},
		},
		{
			name: "spaces in names, limit",
			req: connector.AccessRequest{Fields: []connector.Path{{"a b"}, {"id"}}, Limit: 100,
				Filters: []connector.Filter{{Field: connector.Path{"a b"}, Values: []any{"x y"}}}},
			sql:   "SELECT `a b`, `id` FROM `my table` WHERE (`a b` IN (?) AND CAST(CONVERT(`a b` USING utf8mb4) AS BINARY) IN (CAST(? AS BINARY))) LIMIT 100",
			args:  []any{"x y", "x y"},
			table: "my table",
		},
		{
			name: "backtick in the table name",
			req: connector.AccessRequest{Fields: []connector.Path{{"id"}},
				Filters: []connector.Filter{{Field: connector.Path{"id"}, Values: []any{int64(1)}}}},
			sql:   "SELECT `id` FROM `t``; DROP TABLE x; --` WHERE `id` IN (?)",
			args:  []any{int64(1)},
			table: "t`; DROP TABLE x; --",
		},
		{
			name: "numbers against a text column are bound as text",
			req: connector.AccessRequest{Fields: []connector.Path{{"id"}},
				Filters: []connector.Filter{{Field: connector.Path{"email"}, Values: []any{int64(0), 1.5, false}}}},
			sql:  "SELECT `id` FROM `t` WHERE (`email` IN (?, ?, ?) AND CAST(CONVERT(`email` USING utf8mb4) AS BINARY) IN (CAST(? AS BINARY), CAST(? AS BINARY), CAST(? AS BINARY)))",
			args: []any{"0", "1.5", "0", "0", "1.5", "0"},
		},
		{
			name: "unsigned key beyond int64",
			req: connector.AccessRequest{Fields: []connector.Path{{"u"}},
				Filters: []connector.Filter{{Field: connector.Path{"u"}, Values: []any{"18446744073709551615", value.Decimal("7")}}}},
			sql:  "SELECT `u` FROM `t` WHERE `u` IN (?, ?)",
			args: []any{uint64(18446744073709551615), int64(7)},
		},
		{name: "empty table name", noTable: true, req: connector.AccessRequest{Fields: []connector.Path{{"id"}}, Filters: []connector.Filter{{Field: connector.Path{"id"}, Values: []any{int64(1)}}}}, err: "invalid identifier"},
		{name: "NUL in the table name", table: "t\x00", req: connector.AccessRequest{Fields: []connector.Path{{"id"}}, Filters: []connector.Filter{{Field: connector.Path{"id"}, Values: []any{int64(1)}}}}, err: "invalid identifier"},
		{name: "unknown column", req: connector.AccessRequest{Fields: []connector.Path{{"nope"}}, Filters: []connector.Filter{{Field: connector.Path{"id"}, Values: []any{int64(1)}}}}, err: `has no column "nope"`},
		{name: "no filter", req: connector.AccessRequest{Fields: []connector.Path{{"id"}}}, err: "without a filter"},
		{name: "empty filter", req: connector.AccessRequest{Fields: []connector.Path{{"id"}}, Filters: []connector.Filter{{Field: connector.Path{"id"}}}}, err: "has no values"},
		{name: "nested in a text column", req: connector.AccessRequest{Fields: []connector.Path{{"email", "x"}}, Filters: []connector.Filter{{Field: connector.Path{"email", "x"}, Values: []any{"a"}}}}, err: "not JSON"},
		{name: "quote in a member name", req: connector.AccessRequest{Fields: []connector.Path{{"doc"}}, Filters: []connector.Filter{{Field: connector.Path{"doc", `a"b`}, Values: []any{"a"}}}}, err: "member name"},
		{name: "bad integer", req: connector.AccessRequest{Fields: []connector.Path{{"id"}}, Filters: []connector.Filter{{Field: connector.Path{"id"}, Values: []any{"abc"}}}}, err: "not an integer"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			table := tc.table
			if table == "" && !tc.noTable {
				table = "t"
			}
			q, err := buildSelect(testCols, table, tc.req)
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
		{
			name: "a dotted key naming a column is that column",
			u:    connector.RowUpdate{Key: connector.Row{"a b": "k", "id": int64(2)}, Set: connector.Row{"x.y": "MASKED", "we`ird": 5.5}},
			sql:  "UPDATE `t` SET `we``ird` = ?, `x.y` = ? WHERE `a b` = ? AND CAST(CONVERT(`a b` USING utf8mb4) AS BINARY) = CAST(? AS BINARY) AND `id` = ?",
			args: []any{"5.5", "MASKED", "k", "k", int64(2)},
		},
		{
			name: "flat and nested together, JSON values",
			u: connector.RowUpdate{Key: connector.Row{"id": int64(4)},
				Set: connector.Row{"email": "x", "doc.o": map[string]any{"k": int64(1)}, "doc.l": []any{"a", true}, "doc.n": int64(0), "doc.d": value.Decimal("1.50")}},
			sql:  "UPDATE `t` SET `email` = ?, `doc` = JSON_REPLACE(`doc`, ?, JSON_EXTRACT(?, '$'), ?, JSON_EXTRACT(?, '$'), ?, JSON_EXTRACT(?, '$'), ?, JSON_EXTRACT(?, '$')) WHERE `id` = ?",
			args: []any{"x", `$."d"`, `1.50`, `$."l"`, `["a",true]`, `$."n"`, `0`, `$."o"`, `{"k":1}`, int64(4)},
		},
		{name: "nested member of a text column", u: connector.RowUpdate{Key: connector.Row{"id": int64(1)}, Set: connector.Row{"email.x": nil}}, err: "not JSON"},
		{name: "unknown column", u: connector.RowUpdate{Key: connector.Row{"id": int64(1)}, Set: connector.Row{"nope": nil}}, err: `has no column "nope"`},
		{name: "unknown key column", u: connector.RowUpdate{Key: connector.Row{"nope": int64(1)}, Set: connector.Row{"email": nil}}, err: `has no column "nope"`},
		{name: "no key", u: connector.RowUpdate{Set: connector.Row{"email": nil}}, err: "has no key"},
		{name: "null key", u: connector.RowUpdate{Key: connector.Row{"id": nil}, Set: connector.Row{"email": nil}}, err: "is NULL"},
		{name: "nothing set", u: connector.RowUpdate{Key: connector.Row{"id": int64(1)}}, err: "sets no field"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q, err := buildUpdate(testCols, "t", tc.u)
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
		// DATETIME is a wall clock in no zone: the driver reads it in its
		// loc, and the wall clock is what the column holds.
		{"datetime", "datetime(6)", time.Date(2024, 3, 1, 10, 0, 0, 123456000, time.FixedZone("x", 3600)), value.Local(time.Date(2024, 3, 1, 10, 0, 0, 123456000, time.UTC))},
		{"timestamp", "timestamp(6)", time.Date(2024, 3, 1, 10, 0, 0, 123456000, time.FixedZone("x", 3600)), time.Date(2024, 3, 1, 9, 0, 0, 123456000, time.UTC)},
		{"text", "text", nil, nil},
	}
	for _, tc := range tests {
		got := decode(tc.raw, typeOf(tc.dataType, tc.colType))
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("decode(%#v) as %s = %#v, want %#v", tc.raw, tc.colType, got, tc.want)
		}
	}
}

func TestBind(t *testing.T) {
	at := time.Date(2024, 3, 1, 10, 0, 0, 5000, time.FixedZone("x", 3600))
	tests := []struct {
		name string
		v    any
		col  column
		want any
		err  string
	}{
		{"nil", nil, column{kind: kInt}, nil, ""},
		{"int", int64(-5), column{kind: kInt}, int64(-5), ""},
		{"text key to int", " 42 ", column{kind: kInt, decl: "int"}, int64(42), ""},
		{"text not an int", "4x", column{kind: kInt, decl: "int"}, nil, "not an integer"},
		{"text to unsigned beyond int64", "18446744073709551615", column{kind: kUint, decl: "bigint unsigned"}, uint64(math.MaxUint64), ""},
		{"decimal to int", value.Decimal("12"), column{kind: kInt}, int64(12), ""},
		{"decimal to decimal", value.Decimal("-12.500000001"), column{kind: kDecimal}, "-12.500000001", ""},
		{"int to text", int64(0), column{kind: kText}, "0", ""},
		{"float to text", 0.1, column{kind: kText}, "0.1", ""},
		{"bool to text", true, column{kind: kText}, "1", ""},
		{"bool", true, column{kind: kBool}, true, ""},
		{"text to bool", "false", column{kind: kBool, decl: "tinyint(1)"}, false, ""},
		{"float", 1.25, column{kind: kFloat}, 1.25, ""},
		{"bytes", []byte{0, 0xff}, column{kind: kBytes}, []byte{0, 0xff}, ""},
		{"time in UTC", at, column{kind: kTime}, at.UTC(), ""},
		{"time to text", at, column{kind: kText}, "2024-03-01T09:00:00.000005Z", ""},
		{"map", map[string]any{"a": []any{int64(1), nil, "x"}, "d": value.Decimal("2.50")}, column{kind: kJSON}, `{"a":[1,null,"x"],"d":2.50}`, ""},
		{"list to text", []any{"a"}, column{kind: kText}, `["a"]`, ""},
		{"string to JSON", "x", column{kind: kJSON}, `"x"`, ""},
		{"int to JSON", int64(3), column{kind: kJSON}, `3`, ""},
		{"NaN to JSON", math.NaN(), column{kind: kJSON}, nil, "encode JSON"},
		{"unsupported", struct{}{}, column{kind: kText}, nil, "cannot store"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := bind(tc.v, tc.col)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("bind(%#v) error %v, want %q", tc.v, err, tc.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("bind(%#v) = %#v, %v; want %#v", tc.v, got, err, tc.want)
			}
		})
	}
}

func TestJSONColumn(t *testing.T) {
	tests := []struct {
		clause, col string
		ok          bool
	}{
		{"json_valid(`doc`)", "doc", true},
		{"JSON_VALID(`we``ird doc`)", "we`ird doc", true},
		{"json_valid(`a`) and `b` > 0", "", false},
		{"`n` > 0", "", false},
	}
	for _, tc := range tests {
		if col, ok := jsonColumn(tc.clause); col != tc.col || ok != tc.ok {
			t.Errorf("jsonColumn(%q) = %q, %v; want %q, %v", tc.clause, col, ok, tc.col, tc.ok)
		}
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		err  error
		want fault.Kind
	}{
		{&mysqldrv.MySQLError{Number: 1205}, fault.Transient}, // lock wait timeout
		{&mysqldrv.MySQLError{Number: 1213}, fault.Transient}, // deadlock
		{&mysqldrv.MySQLError{Number: 1040}, fault.Transient}, // too many connections
		{&mysqldrv.MySQLError{Number: 1053}, fault.Transient}, // server shutdown
		{&mysqldrv.MySQLError{Number: 2006}, fault.Transient}, // server gone away
		{&mysqldrv.MySQLError{Number: 2013}, fault.Transient}, // lost connection
		{&mysqldrv.MySQLError{Number: 1969}, fault.Transient}, // MariaDB statement timeout
		{&mysqldrv.MySQLError{Number: 3024}, fault.Transient}, // MySQL statement timeout
		{&mysqldrv.MySQLError{Number: 1044}, fault.Permanent}, // access denied to the database
		{&mysqldrv.MySQLError{Number: 1045}, fault.Permanent}, // access denied
		{&mysqldrv.MySQLError{Number: 1049}, fault.Permanent}, // unknown database
		{&mysqldrv.MySQLError{Number: 1054}, fault.Permanent}, // unknown column
		{&mysqldrv.MySQLError{Number: 1146}, fault.Permanent}, // no such table
		{&mysqldrv.MySQLError{Number: 1064}, fault.Permanent}, // syntax
		{&mysqldrv.MySQLError{Number: 1142}, fault.Permanent}, // command denied
		{&mysqldrv.MySQLError{Number: 1290}, fault.Permanent}, // --read-only
		{&mysqldrv.MySQLError{Number: 1836}, fault.Permanent}, // read-only mode
		{&mysqldrv.MySQLError{Number: 1406}, fault.Permanent}, // data too long
		{&mysqldrv.MySQLError{Number: 1366}, fault.Permanent}, // incorrect value
		{&mysqldrv.MySQLError{Number: 1292}, fault.Permanent}, // truncated incorrect value
		{&mysqldrv.MySQLError{Number: 1451}, fault.Permanent}, // foreign key (parent)
		{&mysqldrv.MySQLError{Number: 1452}, fault.Permanent}, // foreign key (child)
		{&mysqldrv.MySQLError{Number: 1062}, fault.Permanent}, // duplicate entry
		{&mysqldrv.MySQLError{Number: 1105}, fault.Unknown},   // unknown error: left to the host
		{driver.ErrBadConn, fault.Transient},
		{mysqldrv.ErrInvalidConn, fault.Transient},
		{io.EOF, fault.Transient},
		{io.ErrUnexpectedEOF, fault.Transient},
		{&net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}, fault.Transient},
		{context.DeadlineExceeded, fault.Transient},
		{errors.New("something else"), fault.Unknown},
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
		"seen": value.Local(time.Date(2024, 3, 1, 10, 0, 0, 123456000, time.UTC)), "flag": true,
	}
	if len(rows) != 1 || !reflect.DeepEqual(rows[0], want) {
		t.Fatalf("rows %#v\nwant %#v", rows, want)
	}
	res, err := c.Erase(ctx, connector.EraseRequest{Collection: coll, Updates: []connector.RowUpdate{
		{Key: connector.Row{"id": int64(1)}, Set: connector.Row{"doc.email": "MASKED", "doc.keep.k": nil, "doc.missing": "x", "e-mail": nil}},
		{Key: connector.Row{"id": int64(99)}, Set: connector.Row{"e-mail": nil}},
	}})
	if err != nil || res.Rows != 1 {
		t.Fatalf("erase: %d, %v", res.Rows, err)
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
	if err != nil || sql != "SELECT `id` FROM `User Rows` WHERE (`e-mail` IN (?, ?) AND CAST(CONVERT(`e-mail` USING utf8mb4) AS BINARY) IN (CAST(? AS BINARY), CAST(? AS BINARY)))" {
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
	dsn := mytest.NewDatabase(t, "lethe_my_new") // skips when no server answers
	good, err := mysqldrv.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	missing := good.Clone()
	missing.DBName = "lethe_missing_db"
	denied := good.Clone()
	denied.User, denied.Passwd = "lethe_no_such_user", "s3cret-pw"
	host, _, _ := net.SplitHostPort(good.Addr)
	for _, tc := range []struct {
		name string
		cfg  schema.Config
		want []string
	}{
		{"nothing set", schema.Config{}, []string{"no database named", "set dbname"}},
		{"dsn without a database", schema.Config{"dsn": "root@tcp(127.0.0.1:3306)/"}, []string{"no database named"}},
		{"both dsn and parts", schema.Config{"dsn": dsn, "host": "h", "password": "pw"}, []string{"both dsn and host, password"}},
		{"unknown database", schema.Config{"dsn": missing.FormatDSN()}, []string{"lethe_missing_db", "does not exist"}},
		{"access denied", schema.Config{"dsn": denied.FormatDSN()}, []string{"lethe_no_such_user", "password"}},
		{"access denied, parts", schema.Config{"host": host, "port": int64(portOf(t, good.Addr)), "user": "lethe_no_such_user", "password": "s3cret-pw", "dbname": good.DBName}, []string{"Access denied", "check user"}},
		{"unreachable", schema.Config{"host": "127.0.0.1", "port": int64(1), "dbname": "x"}, []string{"127.0.0.1:1", "does not answer"}},
		{"negative timeout", schema.Config{"dsn": dsn, "statement_timeout": -time.Second}, []string{"negative"}},
		{"too many connections", schema.Config{"dsn": dsn, "max_connections": int64(5000)}, []string{"max_connections"}},
		{"port out of range", schema.Config{"port": int64(70000), "dbname": "x"}, []string{"port 70000"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inst, err := New(context.Background(), tc.cfg)
			if err == nil {
				inst.Close(context.Background())
				t.Fatal("New succeeded")
			}
			if fault.KindOf(err) != fault.Permanent {
				t.Errorf("%v: not permanent", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%v: does not mention %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "s3cret-pw") {
				t.Errorf("%v: the password leaked", err)
			}
		})
	}
}

func portOf(t *testing.T, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestSessionSettings checks what every pooled connection runs with.
func TestSessionSettings(t *testing.T) {
	c, _ := openTest(t, "CREATE TABLE t (id INT PRIMARY KEY)", schema.Config{"statement_timeout": 1500 * time.Millisecond})
	var tz string
	if err := c.db.QueryRow("SELECT @@session.time_zone").Scan(&tz); err != nil || tz != "+00:00" {
		t.Errorf("time_zone %q, %v", tz, err)
	}
	var limit string
	q, want := "SELECT @@session.max_execution_time", "1500"
	if c.mariadb {
		q, want = "SELECT @@session.max_statement_time", "1.5"
	}
	if err := c.db.QueryRow(q).Scan(&limit); err != nil || strings.TrimRight(strings.TrimRight(limit, "0"), ".") != want {
		t.Errorf("%s = %q, %v; want %s", q, limit, err, want)
	}
}

// TestValues reads and writes the column types the connector maps, and
// checks that keys compare exactly.
func TestValues(t *testing.T) {
	c, dsn := openTest(t, "CREATE TABLE v (id BIGINT UNSIGNED PRIMARY KEY, small TINYINT, flag TINYINT(1), f FLOAT, dbl DOUBLE,"+
		" dec2 DECIMAL(65,30), name VARCHAR(50), e ENUM('a','b'), s SET('x','y'), bin VARBINARY(8), day DATE, at TIMESTAMP(3) NULL,"+
		" y YEAR, `we``ird doc` JSON);"+
		"INSERT INTO v VALUES (18446744073709551615, -128, 1, 0.1, 0.1, -12345678901234567890123456789012345.123456789012345678901234567891,"+
		" 'abc', 'b', 'x,y', 0x00FF, '2024-02-29', '2024-03-01 10:00:00.123', 2024, '{\"a\": [1, 2.5, \"x\", null, true], \"big\": 123456789012345678901}'),"+
		"(18446744073709551614, 0, 0, NULL, NULL, NULL, '0', NULL, NULL, NULL, NULL, NULL, NULL, NULL)", schema.Config{})
	ctx := context.Background()
	coll := connector.Collection{Name: "v"}
	access := func(f connector.Filter, fields ...string) []connector.Row {
		t.Helper()
		var rows collect
		var paths []connector.Path
		for _, n := range fields {
			paths = append(paths, connector.Path{n})
		}
		if err := c.Access(ctx, connector.AccessRequest{Collection: coll, Fields: paths, Filters: []connector.Filter{f}}, &rows); err != nil {
			t.Fatal(err)
		}
		return rows
	}
	all := []string{"id", "small", "flag", "f", "dbl", "dec2", "name", "e", "s", "bin", "day", "at", "y", "we`ird doc"}
	rows := access(connector.Filter{Field: connector.Path{"id"}, Values: []any{"18446744073709551615"}}, all...)
	want := connector.Row{
		"id": value.Decimal("18446744073709551615"), "small": int64(-128), "flag": true, "f": float64(float32(0.1)), "dbl": 0.1,
		"dec2": value.Decimal("-12345678901234567890123456789012345.123456789012345678901234567891"), "name": "abc", "e": "b", "s": "x,y",
		"bin": []byte{0, 0xff}, "day": value.Local(time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)), "at": time.Date(2024, 3, 1, 10, 0, 0, 123e6, time.UTC),
		"y": int64(2024), "we`ird doc": map[string]any{"a": []any{int64(1), 2.5, "x", nil, true}, "big": value.Decimal("123456789012345678901")},
	}
	if len(rows) != 1 || !reflect.DeepEqual(rows[0], want) {
		t.Fatalf("got  %#v\nwant %#v", rows, want)
	}
	// The number 0 must not match the text 'abc' (MySQL compares text and
	// numbers as doubles); it matches the text '0' only.
	if rows := access(connector.Filter{Field: connector.Path{"name"}, Values: []any{int64(0)}}, "id"); len(rows) != 1 || rows[0]["id"] != value.Decimal("18446744073709551614") {
		t.Errorf("name IN (0): %v", rows)
	}
	// A nested filter on the MariaDB JSON column with an odd name.
	if rows := access(connector.Filter{Field: connector.Path{"we`ird doc", "big"}, Values: []any{value.Decimal("123456789012345678901")}}, "id"); len(rows) != 1 {
		t.Errorf("nested filter on a decimal member: %v", rows)
	}
	// Erase by an unsigned key beyond int64, twice: the second reports the
	// row matched again (clientFoundRows).
	req := connector.EraseRequest{Collection: coll, Updates: []connector.RowUpdate{{
		Key: connector.Row{"id": value.Decimal("18446744073709551615")},
		Set: connector.Row{"name": nil, "at": time.Date(2000, 1, 1, 1, 0, 0, 0, time.FixedZone("x", 3600)), "dec2": value.Decimal("0.5"),
			"we`ird doc.a": "MASKED", "we`ird doc.none": "x", "bin": []byte("x"), "flag": false, "f": 2.5},
	}}}
	for i := range 2 {
		if res, err := c.Erase(ctx, req); err != nil || res.Rows != 1 {
			t.Fatalf("erase %d: %d, %v", i+1, res.Rows, err)
		}
	}
	rows = access(connector.Filter{Field: connector.Path{"id"}, Values: []any{value.Decimal("18446744073709551615")}}, "name", "at", "dec2", "we`ird doc", "bin", "flag", "f")
	want = connector.Row{"name": nil, "at": time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), "dec2": value.Decimal("0.500000000000000000000000000000"),
		"we`ird doc": map[string]any{"a": "MASKED", "big": value.Decimal("123456789012345678901")}, "bin": []byte("x"), "flag": false, "f": 2.5}
	if len(rows) != 1 || !reflect.DeepEqual(rows[0], want) {
		t.Fatalf("after erase\ngot  %#v\nwant %#v", rows, want)
	}
	var other string
	if err := mytest.Open(t, dsn).QueryRow("SELECT name FROM v WHERE id = 18446744073709551614").Scan(&other); err != nil || other != "0" {
		t.Errorf("the other row changed: %q %v", other, err)
	}
}
