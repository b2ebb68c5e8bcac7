package rpc

import (
	"google.golang.org/grpc/status"

	pluginv1 "github.com/lethehq/lethe/proto/plugin/v1"
	"github.com/lethehq/lethe/sdk/redact"
)

// Redact returns err with every value of vals() masked in its text; vals
// is called only when err is not nil (collecting a call's values costs
// more than most calls). A gRPC status error keeps its code (the fault
// classification travels in it); any other error becomes a plain error
// with the redacted text.
func Redact(err error, vals func() *redact.Set) error {
	if err == nil || vals == nil {
		return err
	}
	set := vals()
	if st, ok := status.FromError(err); ok {
		msg := set.Text(st.Message())
		if msg == st.Message() {
			return err
		}
		return status.Error(st.Code(), msg)
	}
	return set.Error(err)
}

// AddValues adds the wire values vs (and the elements of lists and maps)
// to set: the values a call carries, to be redacted from its errors.
func AddValues(set *redact.Set, vs ...*pluginv1.Value) {
	for _, v := range vs {
		switch k := v.GetKind().(type) {
		case *pluginv1.Value_String_:
			set.Add(k.String_)
		case *pluginv1.Value_Int:
			set.Add(k.Int)
		case *pluginv1.Value_Float:
			set.Add(k.Float)
		case *pluginv1.Value_Decimal:
			set.Add(k.Decimal)
		case *pluginv1.Value_Bytes:
			set.Add(k.Bytes)
		case *pluginv1.Value_ObjectId:
			if len(k.ObjectId) == 12 {
				var o [12]byte
				copy(o[:], k.ObjectId)
				set.Add(hexID(o))
			}
		case *pluginv1.Value_List:
			AddValues(set, k.List.GetValues()...)
		case *pluginv1.Value_Map:
			AddMap(set, k.Map)
		}
	}
}

// AddMap adds the values of a wire map to set.
func AddMap(set *redact.Set, m *pluginv1.ValueMap) {
	for _, v := range m.GetFields() {
		AddValues(set, v)
	}
}

func hexID(o [12]byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 24)
	for i, b := range o {
		out[2*i], out[2*i+1] = digits[b>>4], digits[b&15]
	}
	return string(out)
}
