package mongodb

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/lethehq/lethe/sdk/connector"
	"github.com/lethehq/lethe/sdk/fault"
)

// dotted checks a field path and returns it in MongoDB's dot notation.
// A segment may not be empty, start with "$" (MongoDB would read an
// operator) or contain "." or NUL (dot notation cannot address it).
func dotted(p connector.Path) (string, error) {
	if len(p) == 0 {
		return "", errors.New("empty field path")
	}
	for _, seg := range p {
		switch {
		case seg == "":
			return "", fmt.Errorf("field %q has an empty segment", p.String())
		case strings.HasPrefix(seg, "$"):
			return "", fmt.Errorf("field %q: segment %q starts with $, which MongoDB reads as an operator", p.String(), seg)
		case strings.ContainsAny(seg, ".\x00"):
			return "", fmt.Errorf("field %q: segment %q contains a dot or NUL, which MongoDB's dot notation cannot address", p.String(), seg)
		}
	}
	return strings.Join(p, "."), nil
}

// splitDotted splits a dotted key of an erase request ("emails.1",
// "orders.0.address.city") into its path.
func splitDotted(k string) connector.Path { return strings.Split(k, ".") }

// checkDatabase checks a database name as MongoDB restricts it.
func checkDatabase(name string) error {
	switch {
	case name == "":
		return errors.New("the database name is empty")
	case len(name) > 63:
		return fmt.Errorf("database name %q is longer than 63 bytes", name)
	case strings.ContainsAny(name, "/\\. \"$*<>:|?\x00"):
		return fmt.Errorf("database name %q contains a character MongoDB forbids in database names (/\\. \"$*<>:|? or NUL)", name)
	}
	return nil
}

// checkCollection checks a collection name as MongoDB restricts it.
func checkCollection(name string) error {
	switch {
	case name == "":
		return errors.New("the collection name is empty")
	case strings.ContainsAny(name, "$\x00"):
		return fmt.Errorf("collection name %q contains $ or NUL", name)
	case strings.HasPrefix(name, "system."):
		return fmt.Errorf("collection %q is a system collection", name)
	}
	return nil
}

// namespace returns the database and collection of c: the configured
// database, or the dataset's key when none is configured.
func (c *Conn) namespace(coll connector.Collection) (string, string, error) {
	db := c.database
	if db == "" {
		db = coll.Dataset
	}
	if db == "" {
		return "", "", fault.AsPermanent(errors.New("no database: the connection's config sets no database and the request names no dataset; set database in the connection's config"))
	}
	if err := checkDatabase(db); err != nil {
		return "", "", fault.AsPermanent(fmt.Errorf("%w; set database in the connection's config", err))
	}
	if err := checkCollection(coll.Name); err != nil {
		return "", "", fault.AsPermanent(err)
	}
	return db, coll.Name, nil
}

// findQuery is the find command of an access request.
type findQuery struct {
	database, collection string
	filter, projection   bson.D
	limit                int64
}

// buildFind turns req into one find:
//
//	filter:     {"email": {"$in": [...]}}, or {"$or": [{...}, {...}]} for several filters
//	projection: {"address.city": 1, "email": 1, "_id": 0}
//
// A filter's path is dotted into nested documents, and MongoDB matches it
// against every element of the arrays on the way: a document matches when
// any element does. Values that spell an ObjectId match both spellings (see
// matchValues). The projection holds the requested paths, without those
// under another requested path; _id comes back only when requested.
func buildFind(req connector.AccessRequest) (bson.D, bson.D, error) {
	if len(req.Fields) == 0 {
		return nil, nil, fault.AsPermanent(errors.New("no field requested"))
	}
	if len(req.Filters) == 0 {
		return nil, nil, fault.AsPermanent(errors.New("access without a filter would read the whole collection; at least one filter is required"))
	}
	paths := make([]string, 0, len(req.Fields))
	for _, f := range req.Fields {
		p, err := dotted(f)
		if err != nil {
			return nil, nil, fault.AsPermanent(err)
		}
		paths = append(paths, p)
	}
	sort.Strings(paths)
	var projection bson.D
	withID := false
	for i, p := range paths {
		covered := false
		for _, q := range paths[:i] {
			if p == q || strings.HasPrefix(p, q+".") {
				covered = true
				break
			}
		}
		if covered {
			continue
		}
		if p == "_id" || strings.HasPrefix(p, "_id.") {
			withID = true
		}
		projection = append(projection, bson.E{Key: p, Value: 1})
	}
	if !withID {
		projection = append(projection, bson.E{Key: "_id", Value: 0})
	}
	clauses := make(bson.A, 0, len(req.Filters))
	for _, f := range req.Filters {
		p, err := dotted(f.Field)
		if err != nil {
			return nil, nil, fault.AsPermanent(fmt.Errorf("filter: %w", err))
		}
		if len(f.Values) == 0 {
			return nil, nil, fault.AsPermanent(fmt.Errorf("filter on %s has no values", p))
		}
		vals, err := matchValues(f.Values)
		if err != nil {
			return nil, nil, fault.AsPermanent(fmt.Errorf("filter on %s: %w", p, err))
		}
		clauses = append(clauses, bson.D{{Key: p, Value: bson.D{{Key: "$in", Value: vals}}}})
	}
	if len(clauses) == 1 {
		return clauses[0].(bson.D), projection, nil
	}
	return bson.D{{Key: "$or", Value: clauses}}, projection, nil
}

func (c *Conn) find(req connector.AccessRequest) (findQuery, error) {
	db, coll, err := c.namespace(req.Collection)
	if err != nil {
		return findQuery{}, err
	}
	filter, projection, err := buildFind(req)
	if err != nil {
		return findQuery{}, err
	}
	if req.Limit < 0 {
		return findQuery{}, fault.AsPermanent(fmt.Errorf("limit %d is negative", req.Limit))
	}
	return findQuery{database: db, collection: coll, filter: filter, projection: projection, limit: req.Limit}, nil
}

// DryRun returns the find that Access runs as one relaxed Extended JSON
// document: {"database", "collection", "filter", "projection"} and "limit"
// when there is one.
func (c *Conn) DryRun(_ context.Context, req connector.AccessRequest) (string, error) {
	q, err := c.find(req)
	if err != nil {
		return "", err
	}
	return q.extJSON()
}

func (q findQuery) extJSON() (string, error) {
	doc := bson.D{
		{Key: "database", Value: q.database},
		{Key: "collection", Value: q.collection},
		{Key: "filter", Value: q.filter},
		{Key: "projection", Value: q.projection},
	}
	if q.limit > 0 {
		doc = append(doc, bson.E{Key: "limit", Value: q.limit})
	}
	b, err := bson.MarshalExtJSON(doc, false, false)
	if err != nil {
		return "", fault.AsPermanent(fmt.Errorf("print the query: %w", err))
	}
	return string(b), nil
}

// Access streams the matching documents to out, one at a time: memory
// stays bounded by the driver's batch and the SDK's, whatever the size of
// the result. A document lacking a requested field comes back without it
// (MongoDB tells a missing field from a null one).
func (c *Conn) Access(ctx context.Context, req connector.AccessRequest, out connector.RowWriter) error {
	q, err := c.find(req)
	if err != nil {
		return err
	}
	opts := options.Find().SetProjection(q.projection)
	if q.limit > 0 {
		opts.SetLimit(q.limit)
	}
	if coll := c.simpleCollation(); coll != nil {
		opts.SetCollation(coll)
	}
	ns := q.database + "." + q.collection
	cur, err := c.client.Database(q.database).Collection(q.collection).Find(ctx, q.filter, opts)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return c.classify(fmt.Errorf("find in %s: %w", ns, err))
	}
	done := false
	defer func() {
		if done {
			_ = cur.Close(context.WithoutCancel(ctx)) // exhausted: nothing to send
			return
		}
		// Kill the server's cursor without holding up the caller, who may
		// have cancelled.
		go func() {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			_ = cur.Close(cctx)
		}()
	}()
	for cur.Next(ctx) {
		row, err := fromRow(cur.Current)
		if err != nil {
			return fault.AsPermanent(fmt.Errorf("read a document of %s: %w", ns, err))
		}
		if err := out.Write(row); err != nil {
			return err
		}
	}
	if err := cur.Err(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return c.classify(fmt.Errorf("read %s: %w", ns, err))
	}
	done = true
	return nil
}

// buildUpdate turns u into the filter and update of one UpdateOne:
//
//	filter: {"_id": {"$in": [ObjectId(...), "..."]}, "tenant": "t1"}  every key field must match
//	update: {"$set": {"emails.1": "MASKED", "orders.0.address.city": null}}
//
// Set paths are concrete, array elements addressed by index as the host
// gives them. $set is idempotent: applying it again changes nothing.
func buildUpdate(u connector.RowUpdate) (bson.D, bson.D, error) {
	if len(u.Key) == 0 {
		return nil, nil, errors.New("the update has no key; erasure updates documents by key only")
	}
	if len(u.Set) == 0 {
		return nil, nil, errors.New("the update sets no field")
	}
	filter := make(bson.D, 0, len(u.Key))
	for _, k := range slices.Sorted(maps.Keys(u.Key)) {
		p, err := dotted(splitDotted(k))
		if err != nil {
			return nil, nil, fmt.Errorf("key: %w", err)
		}
		v := u.Key[k]
		switch v.(type) {
		case nil:
			return nil, nil, fmt.Errorf("key %s is null; a document is updated by a non-null key", k)
		case map[string]any, []any, []string:
			return nil, nil, fmt.Errorf("key %s is a %T; a document is updated by scalar keys", k, v)
		}
		vals, err := matchValues([]any{v})
		if err != nil {
			return nil, nil, fmt.Errorf("key %s: %w", k, err)
		}
		if len(vals) == 1 {
			filter = append(filter, bson.E{Key: p, Value: vals[0]})
		} else {
			filter = append(filter, bson.E{Key: p, Value: bson.D{{Key: "$in", Value: vals}}})
		}
	}
	set := make(bson.D, 0, len(u.Set))
	for _, k := range slices.Sorted(maps.Keys(u.Set)) {
		p, err := dotted(splitDotted(k))
		if err != nil {
			return nil, nil, fmt.Errorf("set: %w", err)
		}
		v, err := toBSON(u.Set[k])
		if err != nil {
			return nil, nil, fmt.Errorf("set %s: %w", k, err)
		}
		set = append(set, bson.E{Key: p, Value: v})
	}
	return filter, bson.D{{Key: "$set", Value: set}}, nil
}

// Erase applies the batch inside a transaction when the server supports
// them (see transactions in the config), one UpdateMany per update whose
// matched count must not exceed 1, and otherwise as one ordered bulk write
// of UpdateOne models after checking that no key matches more than one
// document. It returns the number of documents modified: a document whose
// values were already masked counts 0, so a repeated Erase reports 0.
// Without a transaction (FerretDB, standalone servers) a failing update
// stops the batch and leaves the updates before it applied; retrying the
// batch is safe, as every update is idempotent.
func (c *Conn) Erase(ctx context.Context, req connector.EraseRequest) (connector.EraseResult, error) {
	n, err := c.erase(ctx, req)
	return connector.EraseResult{Rows: n}, err
}

// erase is Erase, returning the rows changed.
func (c *Conn) erase(ctx context.Context, req connector.EraseRequest) (int64, error) {
	db, collName, err := c.namespace(req.Collection)
	if err != nil {
		return 0, err
	}
	ns := db + "." + collName
	collation := c.simpleCollation()
	models := make([]mongo.WriteModel, 0, len(req.Updates))
	filters := make([]bson.D, 0, len(req.Updates))
	updates := make([]bson.D, 0, len(req.Updates))
	for i, u := range req.Updates {
		filter, update, err := buildUpdate(u)
		if err != nil {
			return 0, fault.AsPermanent(fmt.Errorf("update %d of %s: %w", i+1, ns, err))
		}
		m := mongo.NewUpdateOneModel().SetFilter(filter).SetUpdate(update)
		if collation != nil {
			m.SetCollation(collation)
		}
		models = append(models, m)
		filters = append(filters, filter)
		updates = append(updates, update)
	}
	if len(models) == 0 {
		return 0, nil
	}
	coll := c.client.Database(db).Collection(collName)
	// In a transaction each update is an UpdateMany whose matched count
	// tells whether its key is unique; a key that is not aborts the
	// transaction, which undoes the batch.
	writeInTxn := func(ctx context.Context) (int64, error) {
		opts := options.UpdateMany()
		if collation != nil {
			opts.SetCollation(collation)
		}
		var modified int64
		for i := range updates {
			res, err := coll.UpdateMany(ctx, filters[i], updates[i], opts)
			if err != nil {
				return 0, fmt.Errorf("update %d: %w", i+1, err)
			}
			if res.MatchedCount > 1 {
				return 0, notUniqueError(ns, i+1, req.Updates[i].Key)
			}
			modified += res.ModifiedCount
		}
		return modified, nil
	}
	// Without a transaction every key is checked before anything is
	// written: UpdateOne would change one of the documents a non-unique
	// key matches, maybe someone else's.
	write := func(ctx context.Context) (int64, error) {
		find := options.Find().SetLimit(2).SetProjection(bson.D{{Key: "_id", Value: 1}})
		if collation != nil {
			find.SetCollation(collation)
		}
		for i, f := range filters {
			cur, err := coll.Find(ctx, f, find)
			if err != nil {
				return 0, fmt.Errorf("update %d: find the documents its key matches: %w", i+1, err)
			}
			var ids []bson.Raw
			if err := cur.All(ctx, &ids); err != nil {
				return 0, fmt.Errorf("update %d: find the documents its key matches: %w", i+1, err)
			}
			if len(ids) > 1 {
				return 0, notUniqueError(ns, i+1, req.Updates[i].Key)
			}
		}
		res, err := coll.BulkWrite(ctx, models, options.BulkWrite().SetOrdered(true))
		if err != nil {
			return 0, err
		}
		return res.ModifiedCount, nil
	}
	var n int64
	if c.txn {
		sess, err := c.client.StartSession()
		if err != nil {
			return 0, c.classify(fmt.Errorf("erase in %s: start a session: %w", ns, err))
		}
		defer sess.EndSession(context.WithoutCancel(ctx))
		res, err := sess.WithTransaction(ctx, func(sctx context.Context) (any, error) { return writeInTxn(sctx) })
		if err != nil {
			if ctx.Err() != nil {
				return 0, ctx.Err()
			}
			return 0, c.classify(fmt.Errorf("erase in %s (one transaction): %w", ns, err))
		}
		n, _ = res.(int64)
	} else {
		n, err = write(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return 0, ctx.Err()
			}
			return 0, c.classify(fmt.Errorf("erase in %s: %w", ns, err))
		}
	}
	return n, nil
}

// notUniqueError says that update i's key matched more than one document.
// It names the key fields, never their values.
func notUniqueError(ns string, i int, key connector.Row) error {
	return fault.AsPermanent(fmt.Errorf("update %d of %s: its key (%s) matches more than one document, so it is not unique; "+
		"nothing in this batch was written. Declare a unique key for this collection in the dataset "+
		"(_id, or fields that together identify one document)", i, ns, strings.Join(slices.Sorted(maps.Keys(key)), ", ")))
}
