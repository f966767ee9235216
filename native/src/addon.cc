// Node-API entry points. Tensors arrive as Float32Array views (on the wasm heap, where tfjs-wasm
// keeps them) and shapes and options as one Int32Array; nothing is kept past the call.
#include <node_api.h>

#include <cstring>
#include <string>
#include <vector>

#include "adamw.h"
#include "attention.h"
#include "commands.h"
#include "conv.h"
#include "gemm.h"
#include "activation.h"
#include "norm.h"
#include "threadPool.h"

namespace {

using fairdiff::Activation;

struct Call {
  napi_env env;
  napi_value args[10];
  size_t count = 10;
  bool failed = false;

  Call(napi_env e, napi_callback_info info) : env(e) {
    napi_get_cb_info(env, info, &count, args, nullptr, nullptr);
  }

  void fail(const std::string& message) {
    if (!failed) napi_throw_type_error(env, nullptr, message.c_str());
    failed = true;
  }

  // The data of `value` if it is a typed array of kind `want` (its length in *length).
  void* typedData(napi_value value, napi_typedarray_type want, size_t* length) {
    bool isTyped = false;
    napi_is_typedarray(env, value, &isTyped);
    napi_typedarray_type kind = napi_int8_array;
    void* data = nullptr;
    if (isTyped) napi_get_typedarray_info(env, value, &kind, length, &data, nullptr, nullptr);
    return isTyped && kind == want ? data : nullptr;
  }

  static const char* kindName(napi_typedarray_type kind) {
    return kind == napi_float32_array   ? "Float32Array"
           : kind == napi_float64_array ? "Float64Array"
           : kind == napi_uint8_array   ? "Uint8Array"
                                        : "Int32Array";
  }

  void* typed(size_t i, napi_typedarray_type want, size_t* length, bool optional) {
    if (failed) return nullptr;
    if (i >= count) {
      fail("fairdiff native: argument " + std::to_string(i) + " is missing");
      return nullptr;
    }
    napi_valuetype type;
    napi_typeof(env, args[i], &type);
    if (optional && (type == napi_null || type == napi_undefined)) return nullptr;
    void* data = typedData(args[i], want, length);
    if (!data) {
      fail("fairdiff native: argument " + std::to_string(i) + " must be a " + kindName(want));
    }
    return data;
  }

  float* floats(size_t i, bool optional = false) {
    size_t length;
    return static_cast<float*>(typed(i, napi_float32_array, &length, optional));
  }

  // A Float32Array argument that must hold exactly `expected` floats.
  float* floatsOf(size_t i, int64_t expected, bool optional = false) {
    size_t length = 0;
    auto* data = static_cast<float*>(typed(i, napi_float32_array, &length, optional));
    if (data && static_cast<int64_t>(length) != expected) {
      fail("fairdiff native: argument " + std::to_string(i) + " holds " +
           std::to_string(length) + " floats, expected " + std::to_string(expected));
      return nullptr;
    }
    return data;
  }

  const int32_t* params(size_t i, size_t expected) {
    size_t length = 0;
    auto* p = static_cast<const int32_t*>(typed(i, napi_int32_array, &length, false));
    if (p && length != expected) {
      fail("fairdiff native: expected " + std::to_string(expected) + " parameters, got " +
           std::to_string(length));
      return nullptr;
    }
    return p;
  }

  double number(size_t i) {
    double value = 0;
    if (!failed && (i >= count || napi_get_value_double(env, args[i], &value) != napi_ok)) {
      fail("fairdiff native: argument " + std::to_string(i) + " must be a number");
    }
    return value;
  }

  struct FloatView {
    float* data;
    int64_t length;
  };

  // The Float32Arrays of a JavaScript array argument.
  std::vector<FloatView> floatList(size_t i) {
    std::vector<FloatView> out;
    bool isArray = false;
    if (!failed && i < count) napi_is_array(env, args[i], &isArray);
    if (!isArray) {
      fail("fairdiff native: argument " + std::to_string(i) + " must be an array");
      return out;
    }
    uint32_t length = 0;
    napi_get_array_length(env, args[i], &length);
    for (uint32_t j = 0; j < length && !failed; ++j) {
      napi_value item;
      napi_get_element(env, args[i], j, &item);
      size_t size = 0;
      void* data = typedData(item, napi_float32_array, &size);
      if (!data) fail("fairdiff native: argument " + std::to_string(i) + " must hold Float32Arrays");
      out.push_back({static_cast<float*>(data), static_cast<int64_t>(size)});
    }
    return out;
  }
};

napi_value undefined(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

// gemm(a, b, c, bias | null, [batch, m, n, k, transposeA, transposeB, batchStrideA,
// batchStrideB, activation][, residual]): c[i] = op(a[i])·op(b[i]) (+ bias) (+ residual[i], of
// c's shape) for each i < batch; a batch stride of 0 repeats that operand.
napi_value Gemm(napi_env env, napi_callback_info info) {
  Call call(env, info);
  float* a = call.floats(0);
  float* b = call.floats(1);
  float* c = call.floats(2);
  const float* bias = call.floats(3, true);
  const int32_t* p = call.params(4, 9);
  const float* residual = call.count > 5 ? call.floats(5, true) : nullptr;
  if (call.failed) return nullptr;
  const int64_t batch = p[0], m = p[1], n = p[2], k = p[3];
  const bool ta = p[4] != 0, tb = p[5] != 0;
  const int64_t strideA = p[6], strideB = p[7];
  const auto activation = static_cast<Activation>(p[8]);
  for (int64_t i = 0; i < batch; ++i) {
    const fairdiff::Addend addend{residual ? residual + i * m * n : nullptr, n, 1};
    fairdiff::gemm(m, n, k, {a + i * strideA, ta ? m : k, ta}, {b + i * strideB, tb ? k : n, tb},
                   c + i * m * n, n, false, bias, activation, addend);
  }
  return undefined(env);
}

constexpr size_t kConvParams = 16;  // conv.h's ConvShape fields in order, then the activation

fairdiff::ConvShape convShape(const int32_t* p) {
  return {p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10], p[11], p[12], p[13],
          p[14]};
}

// convForward(x, filter, bias | null, y, params[, addend, rowsPerAddendRow]): the addend (a
// residual, rowsPerAddendRow 1, or a shift per image, rowsPerAddendRow = output pixels per image)
// is added with the bias.
napi_value ConvForward(napi_env env, napi_callback_info info) {
  Call call(env, info);
  const float* x = call.floats(0);
  const float* w = call.floats(1);
  const float* bias = call.floats(2, true);
  float* y = call.floats(3);
  const int32_t* p = call.params(4, kConvParams);
  fairdiff::Addend addend;
  if (call.count > 5) {
    addend.data = call.floats(5, true);
    addend.rowsPerRow = static_cast<int64_t>(call.number(6));
    if (!call.failed && addend.rowsPerRow < 1) call.fail("fairdiff native: rowsPerAddendRow < 1");
  }
  if (call.failed) return nullptr;
  const fairdiff::ConvShape shape = convShape(p);
  addend.ld = shape.outChannels;
  fairdiff::convForward(shape, x, w, bias, static_cast<Activation>(p[15]), y, addend);
  return undefined(env);
}

// The two gradients: convBackpropInput(dy, filter, dx, params), convBackpropFilter(x, dy, dw,
// params) — two arrays read, one written.
template <void (*Gradient)(const fairdiff::ConvShape&, const float*, const float*, float*)>
napi_value ConvGradient(napi_env env, napi_callback_info info) {
  Call call(env, info);
  const float* first = call.floats(0);
  const float* second = call.floats(1);
  float* out = call.floats(2);
  const int32_t* p = call.params(3, kConvParams);
  if (call.failed) return nullptr;
  Gradient(convShape(p), first, second, out);
  return undefined(env);
}


fairdiff::NormShape normShape(const int32_t* p, double epsilon) {
  return {p[0], p[1], p[2], p[3], static_cast<float>(epsilon), p[4] != 0};
}

// normForward(x, gamma, beta, y, [rows, spatial, channels, groups, silu], epsilon)
napi_value NormForward(napi_env env, napi_callback_info info) {
  Call call(env, info);
  const float* x = call.floats(0);
  const float* gamma = call.floats(1);
  const float* beta = call.floats(2);
  float* y = call.floats(3);
  const int32_t* p = call.params(4, 5);
  const double epsilon = call.number(5);
  if (call.failed) return nullptr;
  fairdiff::normForward(normShape(p, epsilon), x, gamma, beta, y);
  return undefined(env);
}

// normBackward(dy, x, gamma, beta, dx, dgamma, dbeta, params, epsilon)
napi_value NormBackward(napi_env env, napi_callback_info info) {
  Call call(env, info);
  const float* dy = call.floats(0);
  const float* x = call.floats(1);
  const float* gamma = call.floats(2);
  const float* beta = call.floats(3);
  float* dx = call.floats(4);
  float* dgamma = call.floats(5);
  float* dbeta = call.floats(6);
  const int32_t* p = call.params(7, 5);
  const double epsilon = call.number(8);
  if (call.failed) return nullptr;
  fairdiff::normBackward(normShape(p, epsilon), dy, x, gamma, beta, dx, dgamma, dbeta);
  return undefined(env);
}

// An attention call's shape ([batch, queries, keys, heads, headDim] at argument paramsAt, the
// score scale after it) and its operands q, k, v and keyMask | null (arguments 0–3), each checked
// to hold the floats the shape says; queryFloats and keyFloats size the other arrays.
struct AttentionCall {
  fairdiff::AttentionShape shape;
  int64_t queryFloats = 0, keyFloats = 0;
  const float *q = nullptr, *k = nullptr, *v = nullptr, *mask = nullptr;

  AttentionCall(Call& call, size_t paramsAt) {
    const int32_t* p = call.params(paramsAt, 5);
    const double scale = call.number(paramsAt + 1);
    if (call.failed) return;
    shape = {p[0], p[1], p[2], p[3], p[4], static_cast<float>(scale)};
    const int64_t width = shape.heads * shape.headDim;
    queryFloats = shape.batch * shape.queries * width;
    keyFloats = shape.batch * shape.keys * width;
    q = call.floatsOf(0, queryFloats);
    k = call.floatsOf(1, keyFloats);
    v = call.floatsOf(2, keyFloats);
    mask = call.floatsOf(3, shape.batch * shape.keys, true);
  }
};

// attentionForward(q, k, v, keyMask | null, out, [batch, queries, keys, heads, headDim], scale)
napi_value AttentionForward(napi_env env, napi_callback_info info) {
  Call call(env, info);
  const AttentionCall a(call, 5);
  float* out = call.floatsOf(4, a.queryFloats);
  if (call.failed) return nullptr;
  fairdiff::attentionForward(a.shape, a.q, a.k, a.v, a.mask, out);
  return undefined(env);
}

// attentionBackward(q, k, v, keyMask | null, dy, dq, dk, dv, params, scale)
napi_value AttentionBackward(napi_env env, napi_callback_info info) {
  Call call(env, info);
  const AttentionCall a(call, 8);
  const float* dy = call.floatsOf(4, a.queryFloats);
  float* dq = call.floatsOf(5, a.queryFloats);
  float* dk = call.floatsOf(6, a.keyFloats);
  float* dv = call.floatsOf(7, a.keyFloats);
  if (call.failed) return nullptr;
  fairdiff::attentionBackward(a.shape, a.q, a.k, a.v, a.mask, dy, dq, dk, dv);
  return undefined(env);
}

// copyPieces(flat, pieces[], toPieces): `flat` holds the pieces one after another (its length
// their total); copies flat → pieces when toPieces, else pieces → flat. A plain memcpy each, where
// JavaScript's set() copies shared memory (data-parallel replicas' handover) element by element.
napi_value CopyPieces(napi_env env, napi_callback_info info) {
  Call call(env, info);
  size_t length = 0;
  auto* flat = static_cast<float*>(call.typed(0, napi_float32_array, &length, false));
  const std::vector<Call::FloatView> pieces = call.floatList(1);
  bool toPieces = false;
  if (!call.failed && (call.count < 3 || napi_get_value_bool(env, call.args[2], &toPieces) != napi_ok)) {
    call.fail("fairdiff native: copyPieces argument 2 must be a boolean");
  }
  int64_t total = 0;
  for (const auto& piece : pieces) total += piece.length;
  if (!call.failed && total != static_cast<int64_t>(length)) {
    call.fail("fairdiff native: copyPieces pieces hold " + std::to_string(total) +
              " floats, the flat array " + std::to_string(length));
  }
  if (call.failed) return nullptr;
  int64_t offset = 0;
  for (const auto& piece : pieces) {
    const size_t bytes = static_cast<size_t>(piece.length) * sizeof(float);
    if (toPieces) {
      std::memcpy(piece.data, flat + offset, bytes);
    } else {
      std::memcpy(flat + offset, piece.data, bytes);
    }
    offset += piece.length;
  }
  return undefined(env);
}

// The activation code of argument i: 0 = SiLU, 1 = GELU.
fairdiff::Pointwise activationKind(Call& call, size_t i) {
  const double kind = call.number(i);
  if (!call.failed && kind != 0 && kind != 1) call.fail("fairdiff native: activation kind must be 0 or 1");
  return kind == 1 ? fairdiff::Pointwise::kGelu : fairdiff::Pointwise::kSilu;
}

// activationForward(x, y, kind): y = activation(x), arrays of one length.
napi_value ActivationForward(napi_env env, napi_callback_info info) {
  Call call(env, info);
  size_t n = 0, ny = 0;
  auto* x = static_cast<const float*>(call.typed(0, napi_float32_array, &n, false));
  auto* y = static_cast<float*>(call.typed(1, napi_float32_array, &ny, false));
  const fairdiff::Pointwise kind = activationKind(call, 2);
  if (!call.failed && ny != n) call.fail("fairdiff native: activation arrays differ in length");
  if (call.failed) return nullptr;
  fairdiff::activationForward(kind, static_cast<int64_t>(n), x, y);
  return undefined(env);
}

// activationBackward(dy, x, dx, kind): dx = dy · activation′(x), arrays of one length.
napi_value ActivationBackward(napi_env env, napi_callback_info info) {
  Call call(env, info);
  size_t n = 0, nx = 0, ndx = 0;
  auto* dy = static_cast<const float*>(call.typed(0, napi_float32_array, &n, false));
  auto* x = static_cast<const float*>(call.typed(1, napi_float32_array, &nx, false));
  auto* dx = static_cast<float*>(call.typed(2, napi_float32_array, &ndx, false));
  const fairdiff::Pointwise kind = activationKind(call, 3);
  if (!call.failed && (nx != n || ndx != n)) {
    call.fail("fairdiff native: activation arrays differ in length");
  }
  if (call.failed) return nullptr;
  fairdiff::activationBackward(kind, static_cast<int64_t>(n), dy, x, dx);
  return undefined(env);
}

// An AdamW call's arguments: `count` lists of Float32Arrays, one per tensor, every list as long
// and every tensor's arrays the same size, then 8 settings (learningRate, weightDecay, beta1,
// beta2, epsilon, correction1, correction2, gradientScale). `failed` is set when they are not.
struct AdamWArguments {
  std::vector<std::vector<Call::FloatView>> lists;
  fairdiff::AdamWSettings settings{};
  size_t tensors = 0;

  AdamWArguments(Call& call, size_t count, const char* name) {
    for (size_t i = 0; i < count; ++i) lists.push_back(call.floatList(i));
    size_t length = 0;
    auto* s = static_cast<const double*>(call.typed(count, napi_float64_array, &length, false));
    const std::string prefix = std::string("fairdiff native: ") + name;
    if (!call.failed && length != 8) call.fail(prefix + " takes 8 settings");
    if (call.failed) return;
    settings = {s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]};
    tensors = lists[0].size();
    for (const auto& list : lists) {
      if (!call.failed && list.size() != tensors) call.fail(prefix + " lists differ in length");
    }
    for (size_t t = 0; t < tensors && !call.failed; ++t) {
      for (const auto& list : lists) {
        if (list[t].length != lists[0][t].length) {
          call.fail(prefix + " tensor " + std::to_string(t) + " differs in size");
          break;
        }
      }
    }
  }

  const Call::FloatView& at(size_t list, size_t t) const { return lists[list][t]; }
};

// Σ over the tensors of count(t), run on the pool.
template <typename Count>
double sumOverTensors(size_t tensors, Count count) {
  std::vector<int64_t> counts(tensors, 0);
  fairdiff::parallelFor(static_cast<int>(tensors), [&](int t) { counts[t] = count(t); });
  int64_t total = 0;
  for (int64_t c : counts) total += c;
  return static_cast<double>(total);
}

// adamW(params[], grads[], m[], v[], paramsOut[], mOut[], vOut[], settings Float64Array(8))
// → the count of non-finite new parameters.
napi_value AdamW(napi_env env, napi_callback_info info) {
  Call call(env, info);
  const AdamWArguments a(call, 7, "adamW");
  if (call.failed) return nullptr;
  const double total = sumOverTensors(a.tensors, [&](int t) {
    return fairdiff::adamWUpdate(a.settings, a.at(0, t).length, a.at(0, t).data, a.at(1, t).data,
                                 a.at(2, t).data, a.at(3, t).data, a.at(4, t).data,
                                 a.at(5, t).data, a.at(6, t).data);
  });
  napi_value result;
  napi_create_double(env, total, &result);
  return result;
}

// adamWInPlace(params[], m[], v[], settings Float64Array(8), grads[], bounds?, published?) → the
// count of new parameters that would not be finite. Zero: every parameter and moment was updated
// where it is; otherwise nothing was written (the caller refuses the step). grads: one array per
// tensor, read where it is (the wasm heap, or data-parallel replicas' summed shares). bounds, an
// Int32Array of 4 per tensor [known, |p|, |m|, v as AdamWBounds' bits]: where known is 1 the
// check may rest on them; an update writes them and sets known. adamWNonFinite takes the same
// arguments and only counts; adamWWriteCounted writes without counting, after adamWNonFinite
// counted 0 on the same arguments (data-parallel replicas agree on the count before any writes).
// published, a Float32Array as long as all the tensors: where the update writes, it also writes
// the new parameters there, one tensor after another (a data-parallel replica's handover).
enum class AdamWPass { kCountAndWrite, kCount, kWriteCounted };

napi_value AdamWInPlaceCall(napi_env env, napi_callback_info info, AdamWPass pass) {
  const char* name = pass == AdamWPass::kCountAndWrite ? "adamWInPlace"
                     : pass == AdamWPass::kCount       ? "adamWNonFinite"
                                                       : "adamWWriteCounted";
  Call call(env, info);
  const AdamWArguments a(call, 3, name);
  if (call.failed) return nullptr;
  const std::string prefix = std::string("fairdiff native: ") + name;
  const std::vector<Call::FloatView> grads = call.floatList(4);
  if (!call.failed && grads.size() != a.tensors) {
    call.fail(prefix + " takes one gradient per tensor");
  }
  for (size_t t = 0; t < grads.size() && !call.failed; ++t) {
    if (grads[t].length != a.at(0, t).length) {
      call.fail(prefix + " gradient " + std::to_string(t) + " differs in size from its tensor");
    }
  }
  size_t boundsLength = 0;
  auto* bounds = static_cast<int32_t*>(call.typed(5, napi_int32_array, &boundsLength, true));
  if (bounds && boundsLength != 4 * a.tensors) {
    call.fail(prefix + " bounds hold " + std::to_string(boundsLength) +
              " values, expected 4 per tensor");
  }
  size_t publishedLength = 0;
  float* published = nullptr;
  if (call.count > 6) {
    published = static_cast<float*>(call.typed(6, napi_float32_array, &publishedLength, true));
  }
  std::vector<int64_t> publishedAt(a.tensors + 1, 0);
  for (size_t t = 0; t < a.tensors; ++t) publishedAt[t + 1] = publishedAt[t] + a.at(0, t).length;
  if (published && static_cast<int64_t>(publishedLength) != publishedAt[a.tensors]) {
    call.fail(prefix + " published holds " + std::to_string(publishedLength) +
              " floats, the tensors " + std::to_string(publishedAt[a.tensors]));
  }
  if (call.failed) return nullptr;
  // Tensor t's bounds as AdamWBounds (3 uint32 after its known flag).
  const auto boundsOf = [&](int t) {
    return reinterpret_cast<fairdiff::AdamWBounds*>(bounds + 4 * t + 1);
  };
  const double total =
      pass == AdamWPass::kWriteCounted ? 0 : sumOverTensors(a.tensors, [&](int t) {
        const bool known = bounds && bounds[4 * t] == 1;
        return fairdiff::adamWNonFinite(a.settings, a.at(0, t).length, a.at(0, t).data,
                                        grads[t].data, a.at(1, t).data, a.at(2, t).data,
                                        known ? boundsOf(t) : nullptr);
      });
  if (pass != AdamWPass::kCount && total == 0) {
    fairdiff::parallelFor(static_cast<int>(a.tensors), [&](int t) {
      fairdiff::adamWInPlace(a.settings, a.at(0, t).length, a.at(0, t).data, grads[t].data,
                             a.at(1, t).data, a.at(2, t).data, bounds ? boundsOf(t) : nullptr,
                             published ? published + publishedAt[t] : nullptr);
      if (bounds) bounds[4 * t] = 1;
    });
  }
  napi_value result;
  napi_create_double(env, total, &result);
  return result;
}

napi_value AdamWInPlace(napi_env env, napi_callback_info info) {
  return AdamWInPlaceCall(env, info, AdamWPass::kCountAndWrite);
}

napi_value AdamWNonFinite(napi_env env, napi_callback_info info) {
  return AdamWInPlaceCall(env, info, AdamWPass::kCount);
}

napi_value AdamWWriteCounted(napi_env env, napi_callback_info info) {
  return AdamWInPlaceCall(env, info, AdamWPass::kWriteCounted);
}

// sumOfSquares(x Float32Array[]) → Σ over the arrays of Σ x², in double (adamw.h).
napi_value SumOfSquares(napi_env env, napi_callback_info info) {
  Call call(env, info);
  const std::vector<Call::FloatView> list = call.floatList(0);
  if (call.failed) return nullptr;
  // Each array's total, added in order: one call for a step's ~300 gradients.
  double total = 0;
  for (const auto& x : list) total += fairdiff::sumOfSquares(x.data, x.length);
  napi_value result;
  napi_create_double(env, total, &result);
  return result;
}

// sumIntoFirst(sources Float32Array[]) → Σ_j (Σ_s sources[s][j])², having written the sums over
// sources[0] (adamw.h).
napi_value SumIntoFirst(napi_env env, napi_callback_info info) {
  Call call(env, info);
  const std::vector<Call::FloatView> list = call.floatList(0);
  if (!call.failed && list.empty()) {
    call.fail("fairdiff native: sumIntoFirst takes one or more arrays");
  }
  std::vector<float*> sources;
  for (const auto& view : list) {
    if (!call.failed && view.length != list[0].length) {
      call.fail("fairdiff native: sumIntoFirst arrays differ in length");
    }
    sources.push_back(view.data);
  }
  if (call.failed) return nullptr;
  const double total = fairdiff::sumIntoFirst(sources.data(), static_cast<int>(sources.size()),
                                              list[0].length);
  napi_value result;
  napi_create_double(env, total, &result);
  return result;
}

// runCommands(heap, table Int32Array, commands Int32Array, begin, end[, outside Float32Array]):
// the commands in [begin, end) of `commands` (commands.h has their layout), their arrays the
// table's entries on `heap` (a Uint8Array over the whole wasm heap) or in `outside` (a region
// beyond it, from its first float to its last). Throws the first command's failure.
napi_value RunCommands(napi_env env, napi_callback_info info) {
  Call call(env, info);
  size_t heapBytes = 0, tableLength = 0, commandLength = 0, outsideFloats = 0;
  auto* heap = static_cast<char*>(call.typed(0, napi_uint8_array, &heapBytes, false));
  auto* table = static_cast<const int32_t*>(call.typed(1, napi_int32_array, &tableLength, false));
  auto* commands = static_cast<const int32_t*>(call.typed(2, napi_int32_array, &commandLength, false));
  const double begin = call.number(3), end = call.number(4);
  char* outside = nullptr;
  if (call.count > 5) {
    outside = static_cast<char*>(call.typed(5, napi_float32_array, &outsideFloats, true));
  }
  if (!outside) outsideFloats = 0;
  if (!call.failed && (begin < 0 || end < begin || end > static_cast<double>(commandLength))) {
    call.fail("fairdiff native: runCommands' range lies outside its commands");
  }
  if (call.failed) return nullptr;
  const std::string failure = fairdiff::runCommands(
      {heap, heapBytes}, {outside, 4 * outsideFloats}, table, tableLength / 2, commands,
      commandLength, static_cast<size_t>(begin), static_cast<size_t>(end));
  if (!failure.empty()) {
    call.fail(failure);
    return nullptr;
  }
  return undefined(env);
}

// commandOps(): how many operations runCommands knows (commands.h).
napi_value CommandOps(napi_env env, napi_callback_info) {
  napi_value result;
  napi_create_int32(env, fairdiff::kCommandOps, &result);
  return result;
}

// commandRegions(): how many memory regions a command table may name (commands.h).
napi_value CommandRegions(napi_env env, napi_callback_info) {
  napi_value result;
  napi_create_int32(env, fairdiff::kCommandRegions, &result);
  return result;
}

// setThreads(n): the pool's size; returns it.
napi_value SetThreads(napi_env env, napi_callback_info info) {
  Call call(env, info);
  int32_t n = 1;
  if (call.count < 1 || napi_get_value_int32(env, call.args[0], &n) != napi_ok || n < 1) {
    call.fail("fairdiff native: setThreads takes a whole number ≥ 1");
    return nullptr;
  }
  fairdiff::setThreadCount(n);
  napi_value result;
  napi_create_int32(env, fairdiff::threadCount(), &result);
  return result;
}

// vectorFloats(): floats per SIMD vector in this build (16 = AVX-512, 8 = AVX2, 4 = SSE/NEON).
napi_value VectorFloats(napi_env env, napi_callback_info) {
  napi_value result;
  napi_create_int32(env, fairdiff::vectorFloats(), &result);
  return result;
}

}  // namespace

NAPI_MODULE_INIT() {
  const napi_property_descriptor functions[] = {
      {"gemm", nullptr, Gemm, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"convForward", nullptr, ConvForward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"convBackpropInput", nullptr, ConvGradient<fairdiff::convBackpropInput>, nullptr, nullptr,
       nullptr, napi_default, nullptr},
      {"convBackpropFilter", nullptr, ConvGradient<fairdiff::convBackpropFilter>, nullptr,
       nullptr, nullptr, napi_default, nullptr},
      {"normForward", nullptr, NormForward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"normBackward", nullptr, NormBackward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"activationForward", nullptr, ActivationForward, nullptr, nullptr, nullptr, napi_default,
       nullptr},
      {"activationBackward", nullptr, ActivationBackward, nullptr, nullptr, nullptr, napi_default,
       nullptr},
      {"attentionForward", nullptr, AttentionForward, nullptr, nullptr, nullptr, napi_default,
       nullptr},
      {"attentionBackward", nullptr, AttentionBackward, nullptr, nullptr, nullptr, napi_default,
       nullptr},
      {"copyPieces", nullptr, CopyPieces, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"adamW", nullptr, AdamW, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"adamWInPlace", nullptr, AdamWInPlace, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"adamWNonFinite", nullptr, AdamWNonFinite, nullptr, nullptr, nullptr, napi_default,
       nullptr},
      {"adamWWriteCounted", nullptr, AdamWWriteCounted, nullptr, nullptr, nullptr, napi_default,
       nullptr},
      {"sumOfSquares", nullptr, SumOfSquares, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"sumIntoFirst", nullptr, SumIntoFirst, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"runCommands", nullptr, RunCommands, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"commandOps", nullptr, CommandOps, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"commandRegions", nullptr, CommandRegions, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setThreads", nullptr, SetThreads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"vectorFloats", nullptr, VectorFloats, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof functions / sizeof *functions, functions);
  return exports;
}
