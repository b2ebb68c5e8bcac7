// Package value converts row values between the Go types plugin authors use
// and the recursive wire Value. The Go types of a value are:
//
//	nil                 NULL
//	bool
//	int64               (int, int32, ... are accepted and widened)
//	float64             (float32 is accepted and widened)
//	string
//	[]byte
//	time.Time           an instant; the zone's offset survives the round trip
//	LocalTime           a date and time of day in no zone (timestamp without
//	                    time zone, DATETIME): written without an offset
//	Decimal             exact decimal text
//	ObjectID            a MongoDB ObjectId
//	[]any               a list of values
//	map[string]any      a nested document
package value
