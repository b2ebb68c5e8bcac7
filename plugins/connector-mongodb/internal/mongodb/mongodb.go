package mongodb

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/auth"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"

	"github.com/lethehq/lethe/sdk/connector"
	"github.com/lethehq/lethe/sdk/fault"
	"github.com/lethehq/lethe/sdk/schema"
)

// Defaults of the attributes whose default depends on the other ones.
const (
	defaultPort         = 27017
	defaultAuthDatabase = "admin"
)

// Transaction modes of the transactions attribute.
const (
	txnAuto   = "auto"
	txnAlways = "always"
	txnNever  = "never"
)

// Definition returns the plugin's definition; version is the plugin's
// semantic version.
func Definition(version string) connector.Definition {
	return connector.Definition{
		Name:        "mongodb",
		Version:     version,
		Description: "Reads and masks documents in MongoDB, or a server speaking its wire protocol such as FerretDB.",
		DryRun:      true,
		Config: schema.Schema{Attributes: []schema.Attribute{
			{Name: "uri", Type: schema.String, Sensitive: true, Destination: true, Description: "A connection string: mongodb://user:pass@host:27017/?authSource=admin or mongodb+srv://... Set either uri or host (with port, username, password, auth_database and tls as needed). Options the uri sets win over connect_timeout and max_connections."},
			{Name: "host", Type: schema.String, Destination: true, Description: "The server's host name or address."},
			{Name: "port", Type: schema.Int, Destination: true, Description: "The server's port; 27017 when unset."},
			{Name: "username", Type: schema.String, Description: "The user to authenticate as (SCRAM); no authentication when unset."},
			{Name: "password", Type: schema.String, Sensitive: true, Description: "The user's password."},
			{Name: "auth_database", Type: schema.String, Description: "The database that holds the user (authSource); admin when unset."},
			{Name: "tls", Type: schema.Bool, Destination: true, Description: "Connect with TLS, verifying the server's certificate; false when unset."},
			{Name: "database", Type: schema.String, Description: "The database that holds the dataset's collections; when unset, the key of the dataset each request names."},
			{Name: "connect_timeout", Type: schema.Duration, Default: 10 * time.Second, Description: "How long to wait for a connection and for a suitable server, such as \"10s\"."},
			{Name: "max_connections", Type: schema.Int, Default: int64(8), Description: "The most connections the driver's pool opens."},
			{Name: "transactions", Type: schema.String, Default: txnAuto, Description: "auto: erase each batch in one transaction when the server supports them (a replica set or sharded cluster), otherwise document by document; always: require transactions; never: document by document (FerretDB, standalone servers)."},
		}},
		New: New,
	}
}

// Conn is one configured server. It is safe for concurrent use.
type Conn struct {
	client   *mongo.Client
	database string // "" uses each request's dataset key
	where    string // host list for messages, without credentials
	txn      bool   // erase batches in transactions
	// collation: the server takes the collation option, so queries and
	// updates ask for the simple (binary) one; see simpleCollation.
	collation bool
	auth      string // "user@auth_database" for messages, or ""

	closeOnce sync.Once
	closeErr  error
}

// settings is a parsed, checked configuration.
type settings struct {
	opts           *options.ClientOptions
	where          string
	auth           string
	database       string
	transactions   string
	connectTimeout time.Duration
}

// parseConfig checks cfg and builds the driver's options. Every error
// names the attribute to fix and never contains a password.
func parseConfig(cfg schema.Config) (settings, error) {
	var s settings
	parts := []string{"host", "port", "username", "password", "auth_database", "tls"}
	var set []string
	for _, p := range parts {
		if _, ok := cfg[p]; ok {
			set = append(set, p)
		}
	}
	s.connectTimeout = cfg.Duration("connect_timeout")
	if _, ok := cfg["connect_timeout"]; !ok {
		s.connectTimeout = 10 * time.Second
	}
	if s.connectTimeout <= 0 {
		return s, fmt.Errorf("connect_timeout %s must be positive", s.connectTimeout)
	}
	maxConns := cfg.Int("max_connections")
	if _, ok := cfg["max_connections"]; !ok {
		maxConns = 8
	}
	if maxConns < 1 || maxConns > 1000 {
		return s, fmt.Errorf("max_connections %d is out of range 1..1000", maxConns)
	}
	s.transactions = cfg.String("transactions")
	switch s.transactions {
	case "":
		s.transactions = txnAuto
	case txnAuto, txnAlways, txnNever:
	default:
		return s, fmt.Errorf("transactions %q is not one of auto, always, never", s.transactions)
	}
	if db := cfg.String("database"); db != "" {
		if err := checkDatabase(db); err != nil {
			return s, fmt.Errorf("database: %w", err)
		}
		s.database = db
	} else if _, ok := cfg["database"]; ok {
		return s, errors.New("database is empty; set a database name or leave database out to use the dataset's key")
	}

	opts := options.Client().
		SetAppName("lethe").
		SetConnectTimeout(s.connectTimeout).
		SetServerSelectionTimeout(s.connectTimeout).
		SetMaxPoolSize(uint64(maxConns))
	switch uri := cfg.String("uri"); {
	case uri != "" && len(set) > 0:
		return s, fmt.Errorf("both uri and %s are set; set either uri or the connection's parts", strings.Join(set, ", "))
	case uri != "":
		opts.ApplyURI(uri)
		if err := opts.Validate(); err != nil {
			return s, fmt.Errorf("uri is not a valid MongoDB connection string: %s", redact(err.Error(), uri))
		}
		if len(opts.Hosts) == 0 {
			return s, errors.New("uri names no host")
		}
		s.where = strings.Join(opts.Hosts, ",")
		if opts.Auth != nil && opts.Auth.Username != "" {
			src := opts.Auth.AuthSource
			if src == "" {
				src = "the uri's default"
			}
			s.auth = fmt.Sprintf("user %q (auth database %s)", opts.Auth.Username, src)
		}
	case cfg.String("host") != "":
		host := cfg.String("host")
		if strings.ContainsAny(host, "/,@?") || strings.HasPrefix(host, "mongodb") {
			return s, fmt.Errorf("host %q must be one host name or address; put a connection string or several hosts in uri", host)
		}
		port := int64(defaultPort)
		if _, ok := cfg["port"]; ok {
			port = cfg.Int("port")
		}
		if port < 1 || port > 65535 {
			return s, fmt.Errorf("port %d is out of range 1..65535", port)
		}
		s.where = net.JoinHostPort(strings.Trim(host, "[]"), strconv.FormatInt(port, 10))
		opts.SetHosts([]string{s.where})
		user, pw := cfg.String("username"), cfg.String("password")
		_, pwSet := cfg["password"]
		switch {
		case user == "" && pwSet:
			return s, errors.New("password is set but username is not; set username too")
		case user == "" && cfg.String("auth_database") != "":
			return s, errors.New("auth_database is set but username is not; set username too")
		case user != "":
			src := cfg.String("auth_database")
			if src == "" {
				src = defaultAuthDatabase
			}
			if err := checkDatabase(src); err != nil {
				return s, fmt.Errorf("auth_database: %w", err)
			}
			opts.SetAuth(options.Credential{Username: user, Password: pw, PasswordSet: pwSet, AuthSource: src})
			s.auth = fmt.Sprintf("user %q (auth_database %s)", user, src)
		}
		if cfg.Bool("tls") {
			opts.SetTLSConfig(&tls.Config{MinVersion: tls.VersionTLS12})
		}
		if err := opts.Validate(); err != nil {
			return s, fmt.Errorf("connection settings: %s", redact(err.Error(), pw))
		}
	default:
		return s, errors.New("no server named: set uri, or host (with port, username, password and auth_database as needed)")
	}
	s.opts = opts
	return s, nil
}

// redact removes secret (a uri, or a password) and any password inside it
// from msg.
func redact(msg, secret string) string {
	if secret == "" {
		return msg
	}
	if u, err := url.Parse(secret); err == nil && u.User != nil {
		if pw, ok := u.User.Password(); ok && pw != "" {
			msg = strings.ReplaceAll(msg, pw, "xxxxx")
		}
	}
	if i := strings.Index(secret, "://"); i >= 0 {
		rest := secret[i+3:]
		if at := strings.LastIndex(strings.SplitN(rest, "/", 2)[0], "@"); at >= 0 {
			msg = strings.ReplaceAll(msg, rest[:at], "xxxxx")
		}
	}
	return strings.ReplaceAll(msg, secret, "xxxxx")
}

// New connects to the server of cfg, checks that it answers and decides
// whether erasure uses transactions.
func New(ctx context.Context, cfg schema.Config) (connector.Instance, error) {
	s, err := parseConfig(cfg)
	if err != nil {
		return nil, fault.AsPermanent(err)
	}
	applyEgress(ctx, s.opts, s.connectTimeout)
	client, err := mongo.Connect(s.opts)
	if err != nil {
		return nil, fault.AsPermanent(fmt.Errorf("mongodb connection settings: %s", redact(err.Error(), cfg.String("uri"))))
	}
	c := &Conn{client: client, database: s.database, where: s.where, auth: s.auth}
	pctx, cancel := context.WithTimeout(ctx, s.connectTimeout+5*time.Second)
	defer cancel()
	if err := c.Test(pctx); err != nil {
		_ = c.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	if c.collation, err = c.supportsCollation(pctx); err != nil {
		_ = c.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	switch s.transactions {
	case txnAlways:
		c.txn = true
	case txnAuto:
		if c.txn, err = c.supportsTransactions(pctx); err != nil {
			_ = c.Close(context.WithoutCancel(ctx))
			return nil, err
		}
	}
	return c, nil
}

// supportsCollation asks the server whether it takes the collation option,
// with a find of nothing in a collection that does not exist. MongoDB
// does; FerretDB 1.x refuses it everywhere (NotImplemented), in queries as
// in collection and index definitions, so its string comparisons are
// always binary; so do other servers that refuse the option. Any other
// refusal (missing privileges, say) counts as support: queries then carry the option, and a server that refuses it
// fails them visibly rather than comparing loosely.
func (c *Conn) supportsCollation(ctx context.Context) (bool, error) {
	db := c.database
	if db == "" {
		db = "admin"
	}
	err := c.client.Database(db).RunCommand(ctx, bson.D{
		{Key: "find", Value: "lethe_collation_probe"},
		{Key: "filter", Value: bson.D{{Key: "_id", Value: "lethe_collation_probe"}}},
		{Key: "limit", Value: 1},
		{Key: "collation", Value: bson.D{{Key: "locale", Value: "simple"}}},
	}).Err()
	var se mongo.ServerError
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &se):
		// NotImplemented, CommandNotSupported, or any refusal naming the
		// option (servers differ in their codes).
		refused := se.HasErrorCode(238) || se.HasErrorCode(115) || strings.Contains(strings.ToLower(err.Error()), "collation")
		return !refused, nil
	}
	return false, c.classify(fmt.Errorf("ask mongodb %s whether it supports collations: %w", c.where, err))
}

// simpleCollation is the collation queries and updates ask for: simple
// compares strings byte for byte, whatever default collation the
// collection has. It is nil on servers without collations.
func (c *Conn) simpleCollation() *options.Collation {
	if !c.collation {
		return nil
	}
	return &options.Collation{Locale: "simple"}
}

// hello is the part of the server's hello answer that tells whether it
// supports transactions.
type hello struct {
	SetName                      string `bson:"setName"`
	Msg                          string `bson:"msg"`
	LogicalSessionTimeoutMinutes *int64 `bson:"logicalSessionTimeoutMinutes"`
}

// supportsTransactions asks the server with hello (isMaster on servers
// older than 4.4): transactions need sessions and a replica set or a
// mongos. FerretDB answers as a standalone server.
func (c *Conn) supportsTransactions(ctx context.Context) (bool, error) {
	admin := c.client.Database("admin")
	var h hello
	err := admin.RunCommand(ctx, bson.D{{Key: "hello", Value: 1}}).Decode(&h)
	if err != nil {
		var ce mongo.CommandError
		if !errors.As(err, &ce) {
			return false, c.classify(fmt.Errorf("ask mongodb %s whether it supports transactions: %w", c.where, err))
		}
		h = hello{}
		if err := admin.RunCommand(ctx, bson.D{{Key: "isMaster", Value: 1}}).Decode(&h); err != nil {
			return false, c.classify(fmt.Errorf("ask mongodb %s whether it supports transactions: %w", c.where, err))
		}
	}
	return txnCapable(h), nil
}

func txnCapable(h hello) bool {
	return h.LogicalSessionTimeoutMinutes != nil && (h.SetName != "" || h.Msg == "isdbgrid")
}

// Test checks that the server answers a ping, authenticating when a user
// is configured.
func (c *Conn) Test(ctx context.Context) error {
	db := c.database
	if db == "" {
		db = "admin"
	}
	if err := c.client.Database(db).RunCommand(ctx, bson.D{{Key: "ping", Value: 1}}).Err(); err != nil {
		return c.classify(fmt.Errorf("connect to mongodb %s: %w", c.where, err))
	}
	return nil
}

// Close disconnects the client. Calling it again does nothing.
func (c *Conn) Close(ctx context.Context) error {
	c.closeOnce.Do(func() {
		err := c.client.Disconnect(ctx)
		if err != nil && !errors.Is(err, mongo.ErrClientDisconnected) {
			c.closeErr = err
		}
	})
	return c.closeErr
}

// Server error codes a retry may fix.
var transientCodes = map[int]bool{
	6: true, 7: true, 89: true, 9001: true, // host unreachable, not found, network timeout, socket
	91: true, 11600: true, 11602: true, 189: true, // shutting down, interrupted, stepped down
	10107: true, 13435: true, 13436: true, // not primary
	50: true, 262: true, // time limit exceeded
	24: true, 46: true, 112: true, 251: true, // lock timeout, lock busy, write conflict, no such transaction
	16500: true, // Cosmos DB: request rate too large
}

// Server error codes no retry can fix: bad requests, missing rights,
// unsupported features.
var permanentCodes = map[int]bool{
	2: true, 9: true, 14: true, 22: true, // bad value, failed to parse, type mismatch, invalid BSON
	13: true, 18: true, 11: true, // unauthorized, authentication failed, user not found
	26: true, 73: true, // namespace not found, invalid namespace
	28: true, 40: true, 52: true, 55: true, 56: true, 57: true, 66: true, // update path errors, immutable field
	10334: true, 17419: true, 17420: true, // document too large
	11000: true, 11001: true, 121: true, // duplicate key, document validation
	20: true, 115: true, 59: true, 238: true, 263: true, // illegal operation, not supported, not implemented
	31249: true, 31250: true, 31254: true, // projection path collisions
}

// classify marks errors a retry may fix as transient and those it cannot
// as permanent; others stay unclassified (retried a few times by the host).
// Authentication failures become permanent with a hint at what to fix.
func (c *Conn) classify(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	var authErr *auth.Error
	var se mongo.ServerError
	isAuth := errors.As(err, &authErr)
	if !isAuth && errors.As(err, &se) {
		isAuth = se.HasErrorCode(18) || se.HasErrorCode(11)
	}
	if isAuth {
		who := "with no credentials configured"
		if c.auth != "" {
			who = "as " + c.auth
		}
		return fault.AsPermanent(fmt.Errorf("%w (authentication %s failed: check username, password and auth_database, or the uri's credentials and authSource)", err, who))
	}
	if se != nil || errors.As(err, &se) {
		if se.HasErrorLabel("TransientTransactionError") || se.HasErrorLabel("RetryableWriteError") || se.HasErrorLabel("NetworkError") {
			return fault.AsTransient(err)
		}
		codes := se.ErrorCodes()
		for _, code := range codes {
			if transientCodes[code] {
				return fault.AsTransient(err)
			}
		}
		for _, code := range codes {
			if permanentCodes[code] {
				if code == 13 {
					return fault.AsPermanent(fmt.Errorf("%w (the user lacks a privilege this needs: find on the collections Lethe reads, update on those it erases)", err))
				}
				return fault.AsPermanent(err)
			}
		}
		if len(codes) > 0 {
			return err
		}
	}
	var marshalErr mongo.MarshalError
	if errors.As(err, &marshalErr) {
		return fault.AsPermanent(err)
	}
	var sse topology.ServerSelectionError
	if errors.As(err, &sse) {
		if strings.Contains(sse.Error(), "wire version") {
			return fault.AsPermanent(fmt.Errorf("%w (the server's version is not supported by the MongoDB Go driver v2)", err))
		}
		return fault.AsTransient(fmt.Errorf("%w (no server answered at %s: check host and port, or the uri, and that the server is up)", err, c.where))
	}
	var connErr topology.ConnectionError
	var netErr net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), mongo.IsTimeout(err), mongo.IsNetworkError(err),
		errors.As(err, &connErr), errors.As(err, &netErr),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fault.AsTransient(err)
	}
	return err
}
