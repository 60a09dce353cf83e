package grpcapi

import (
	"context"
	"strings"
	"sync"
	"unicode/utf8"

	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"
	_ "google.golang.org/grpc/encoding/proto" // registers the "proto" codec
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/houseview/gateway/app"
)

// The protobuf runtime refuses a string field holding invalid UTF-8, and
// grpc-go answers any request that fails to decode with INTERNAL ("failed
// to unmarshal the received message"), before an interceptor runs. For the
// House service the server's codec instead lets the call reach the
// interceptors, and checkDecoded answers INVALID_ARGUMENT: naming the field
// for invalid UTF-8, like REST does ("user_name is not valid UTF-8"), else
// "request is not a valid house.v1.X message".

// undecodable holds the requests (by pointer) that failed to decode, and
// the message to answer: set by the codec, taken by checkDecoded in the
// same call.
var undecodable sync.Map // proto.Message -> string

// houseCodec is the server's codec: proto, plus the above.
type houseCodec struct{ encoding.CodecV2 }

// serverCodec returns the server option that installs houseCodec.
func serverCodec() grpc.ServerOption {
	return grpc.ForceServerCodecV2(houseCodec{encoding.GetCodecV2("proto")})
}

// Unmarshal decodes data into v; a House request that fails is recorded
// in undecodable instead.
func (c houseCodec) Unmarshal(data mem.BufferSlice, v any) error {
	err := c.CodecV2.Unmarshal(data, v)
	if err == nil {
		return nil
	}
	m, ok := v.(proto.Message)
	if !ok {
		return err
	}
	md := m.ProtoReflect().Descriptor()
	if !strings.HasPrefix(string(md.FullName()), ServiceName[:strings.LastIndexByte(ServiceName, '.')+1]) {
		return err // health, reflection: the runtime's answer
	}
	msg := "request is not a valid " + string(md.FullName()) + " message"
	if field := invalidUTF8Field(data.Materialize(), md); field != "" {
		msg = field + " is not valid UTF-8"
	}
	undecodable.Store(m, msg)
	return nil
}

// invalidUTF8Field returns the name (dotted for nested messages) of the
// first string field of b, a message of type md in wire format, that is not
// valid UTF-8; "" when there is none or b is malformed.
func invalidUTF8Field(b []byte, md protoreflect.MessageDescriptor) string {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return ""
		}
		b = b[n:]
		if typ != protowire.BytesType {
			if n = protowire.ConsumeFieldValue(num, typ, b); n < 0 {
				return ""
			}
			b = b[n:]
			continue
		}
		v, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return ""
		}
		b = b[n:]
		fd := md.Fields().ByNumber(num)
		switch {
		case fd == nil:
		case fd.Kind() == protoreflect.StringKind && !utf8.Valid(v):
			return string(fd.Name())
		case fd.Kind() == protoreflect.MessageKind:
			if sub := invalidUTF8Field(v, fd.Message()); sub != "" {
				return string(fd.Name()) + "." + sub
			}
		}
	}
	return ""
}

// checkDecoded refuses a request that the codec recorded as undecodable.
// It sits below mapErrors and above every interceptor that may return
// early, so each recorded request is taken out again.
func (in *interceptors) checkDecoded(ctx context.Context, req any, info *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
	if msg, ok := undecodable.LoadAndDelete(req); ok {
		return nil, app.Errorf(app.EInvalidArgument, "%s", msg)
	}
	return next(ctx, req)
}
