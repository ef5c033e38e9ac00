// A 2D convolution that runs a oneDNN primitive built once per input shape and thread
// count, for the ``torch`` backend's ``onednn`` option (spact_mm/apis/onednn_conv.py,
// issue 17).
//
// Written by hand because no kept library offers it: PyTorch's own way into oneDNN
// (ideep, behind F.conv2d and torch.ops.mkldnn._convolution_pointwise, which
// torch.compile's frozen graphs call too) rebuilds the memory descriptors, the
// attributes and the primitive descriptor on every call and looks the primitive up in
// oneDNN's cache. That costs about 25 us per call whatever the conv's size
// (docs/benchmark.md, session 18): more than the arithmetic of every conv of the camera
// f_A on a 112x112 frame. PyTorch does not export its bundled oneDNN, so this links the
// oneDNN of the optional ``deploy`` extra (PyPI's onednn-cpu-gomp, the GNU OpenMP build:
// the same OpenMP runtime as PyTorch, so torch.set_num_threads applies).
//
//   create(w, b, stride, padding, dilation, relu) -> handle
//       keeps a copy of the OIHW weight and bias; y = relu?(w * x + b) (eq.: 2D
//       cross-correlation with zero padding, groups 1).
//   conv(x, handle) -> y    NCHW-shaped float32 CPU tensors, y channels-last.
//   cached(handle) -> the number of primitives kept (one per input shape and thread count)
//   release(handle)
#include <torch/extension.h>

#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "oneapi/dnnl/dnnl.hpp"

namespace {

using dnnl::memory;

// Primitives kept per conv, one per input shape and thread count (the least recently used
// is dropped). A primitive plans its split over the threads it is built for and runs on
// that many whatever omp_set_num_threads says later, so the thread count is part of the key
// (oneDNN's own primitive cache keys on it too); ThreadChoice tries 1 and all threads.
constexpr size_t kMaxPrimitives = 8;

dnnl::engine& cpu_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

struct Primitive {
  dnnl::convolution_forward conv;
  memory weights;  // reordered once into the layout the primitive chose
  memory bias;     // over the conv's bias tensor (empty without one)
  memory::desc src_desc, dst_desc, scratchpad_desc;
  std::vector<int64_t> out_sizes;
};

struct Conv {
  torch::Tensor weight, bias;  // OIHW, contiguous copies
  std::vector<int64_t> stride, padding, dilation;
  bool relu = false;
  std::mutex mutex;
  std::list<std::pair<std::vector<int64_t>, std::shared_ptr<Primitive>>> primitives;  // MRU first
};

std::mutex registry_mutex;
std::unordered_map<int64_t, std::shared_ptr<Conv>> registry;
int64_t next_handle = 0;

memory::dims dims(const std::vector<int64_t>& v) { return memory::dims(v.begin(), v.end()); }

std::shared_ptr<Primitive> build(const Conv& c, const std::vector<int64_t>& in) {
  const int64_t out_ch = c.weight.size(0), in_ch = c.weight.size(1);
  const int64_t kh = c.weight.size(2), kw = c.weight.size(3);
  auto out = std::make_shared<Primitive>();
  const int64_t oh = (in[2] + 2 * c.padding[0] - c.dilation[0] * (kh - 1) - 1) / c.stride[0] + 1;
  const int64_t ow = (in[3] + 2 * c.padding[1] - c.dilation[1] * (kw - 1) - 1) / c.stride[1] + 1;
  TORCH_CHECK(oh > 0 && ow > 0, "spact_onednn.conv: input ", in, " is too small for the kernel");
  out->out_sizes = {in[0], out_ch, oh, ow};
  const auto f32 = memory::data_type::f32;
  out->src_desc = memory::desc(dims(in), f32, memory::format_tag::nhwc);
  out->dst_desc = memory::desc(dims(out->out_sizes), f32, memory::format_tag::nhwc);
  const memory::desc any_weights({out_ch, in_ch, kh, kw}, f32, memory::format_tag::any);
  const memory::desc bias_desc({out_ch}, f32, memory::format_tag::x);
  dnnl::post_ops post_ops;
  if (c.relu) post_ops.append_eltwise(dnnl::algorithm::eltwise_relu, 0.f, 0.f);
  dnnl::primitive_attr attr;
  attr.set_post_ops(post_ops);
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  // oneDNN counts dilation from 0 (no dilation), PyTorch from 1
  const memory::dims strides = dims(c.stride), padding = dims(c.padding);
  const memory::dims dilation{c.dilation[0] - 1, c.dilation[1] - 1};
  const auto kind = dnnl::prop_kind::forward_inference;
  const auto algo = dnnl::algorithm::convolution_direct;
  auto pd = c.bias.defined()
      ? dnnl::convolution_forward::primitive_desc(cpu_engine(), kind, algo, out->src_desc,
                                                  any_weights, bias_desc, out->dst_desc, strides,
                                                  dilation, padding, padding, attr)
      : dnnl::convolution_forward::primitive_desc(cpu_engine(), kind, algo, out->src_desc,
                                                  any_weights, out->dst_desc, strides, dilation,
                                                  padding, padding, attr);
  out->conv = dnnl::convolution_forward(pd);
  out->scratchpad_desc = pd.scratchpad_desc();
  memory user_weights({{out_ch, in_ch, kh, kw}, f32, memory::format_tag::oihw}, cpu_engine(),
                      c.weight.data_ptr());
  out->weights = memory(pd.weights_desc(), cpu_engine());
  dnnl::stream stream(cpu_engine());
  dnnl::reorder(user_weights, out->weights).execute(stream, user_weights, out->weights);
  stream.wait();
  if (c.bias.defined()) out->bias = memory(bias_desc, cpu_engine(), c.bias.data_ptr());
  return out;
}

std::shared_ptr<Conv> lookup(int64_t handle) {
  std::lock_guard<std::mutex> lock(registry_mutex);
  auto it = registry.find(handle);
  TORCH_CHECK(it != registry.end(), "spact_onednn.conv: no convolution with handle ", handle,
              " (released, or created in another process)");
  return it->second;
}

// key: the input's (N, C, H, W), then the thread count
std::shared_ptr<Primitive> primitive_for(Conv& c, const std::vector<int64_t>& key) {
  std::lock_guard<std::mutex> lock(c.mutex);
  for (auto it = c.primitives.begin(); it != c.primitives.end(); ++it) {
    if (it->first == key) {
      c.primitives.splice(c.primitives.begin(), c.primitives, it);
      return it->second;
    }
  }
  auto made = build(c, std::vector<int64_t>(key.begin(), key.begin() + 4));
  c.primitives.emplace_front(key, made);
  while (c.primitives.size() > kMaxPrimitives) c.primitives.pop_back();
  return made;
}

int64_t create(const torch::Tensor& weight, const c10::optional<torch::Tensor>& bias,
               std::vector<int64_t> stride, std::vector<int64_t> padding,
               std::vector<int64_t> dilation, bool relu) {
  TORCH_CHECK(weight.dim() == 4 && weight.scalar_type() == torch::kFloat &&
                  weight.device().is_cpu(),
              "spact_onednn.create: needs a float32 CPU weight (O, I, kH, kW), got ",
              weight.sizes(), " ", weight.scalar_type());
  TORCH_CHECK(stride.size() == 2 && padding.size() == 2 && dilation.size() == 2,
              "spact_onednn.create: stride, padding and dilation need 2 values each");
  auto c = std::make_shared<Conv>();
  c->weight = weight.detach().contiguous().clone();
  if (bias.has_value() && bias->defined()) {
    TORCH_CHECK(bias->numel() == weight.size(0) && bias->scalar_type() == torch::kFloat,
                "spact_onednn.create: the bias needs ", weight.size(0), " float32 values");
    c->bias = bias->detach().contiguous().clone();
  }
  c->stride = stride;
  c->padding = padding;
  c->dilation = dilation;
  c->relu = relu;
  std::lock_guard<std::mutex> lock(registry_mutex);
  registry[next_handle] = c;
  return next_handle++;
}

torch::Tensor conv(const torch::Tensor& input, int64_t handle) {
  auto c = lookup(handle);
  TORCH_CHECK(input.dim() == 4 && input.scalar_type() == torch::kFloat && input.device().is_cpu(),
              "spact_onednn.conv: needs a float32 CPU input (N, C, H, W), got ", input.sizes(),
              " ", input.scalar_type(), " on ", input.device());
  TORCH_CHECK(input.size(1) == c->weight.size(1), "spact_onednn.conv: input has ", input.size(1),
              " channels, the weight expects ", c->weight.size(1));
  const auto x = input.contiguous(at::MemoryFormat::ChannelsLast);
  const std::vector<int64_t> in(x.sizes().begin(), x.sizes().end());
  std::vector<int64_t> key(in);
  key.push_back(at::get_num_threads());
  try {
    auto p = primitive_for(*c, key);
    auto y = torch::empty(p->out_sizes, x.options().memory_format(at::MemoryFormat::ChannelsLast));
    const size_t scratch_bytes = p->scratchpad_desc.get_size();
    auto scratch = torch::empty({static_cast<int64_t>(scratch_bytes)}, x.options().dtype(torch::kUInt8));
    thread_local dnnl::stream stream(cpu_engine());
    std::unordered_map<int, memory> args{
        {DNNL_ARG_SRC, memory(p->src_desc, cpu_engine(), x.data_ptr())},
        {DNNL_ARG_WEIGHTS, p->weights},
        {DNNL_ARG_DST, memory(p->dst_desc, cpu_engine(), y.data_ptr())},
        {DNNL_ARG_SCRATCHPAD, memory(p->scratchpad_desc, cpu_engine(), scratch.data_ptr())}};
    if (c->bias.defined()) args.emplace(DNNL_ARG_BIAS, p->bias);
    p->conv.execute(stream, args);
    stream.wait();
    return y;
  } catch (const dnnl::error& e) {
    TORCH_CHECK(false, "spact_onednn.conv: oneDNN failed: ", e.what());
  }
}

int64_t cached(int64_t handle) {
  auto c = lookup(handle);
  std::lock_guard<std::mutex> lock(c->mutex);
  return static_cast<int64_t>(c->primitives.size());
}

void release(int64_t handle) {
  std::lock_guard<std::mutex> lock(registry_mutex);
  registry.erase(handle);
}

}  // namespace

TORCH_LIBRARY(spact_onednn, m) {
  m.def("create(Tensor weight, Tensor? bias, int[] stride, int[] padding, int[] dilation, "
        "bool relu) -> int", &create);
  m.def("conv(Tensor input, int handle) -> Tensor");
  m.impl("conv", c10::DispatchKey::CPU, TORCH_FN(conv));
  m.def("cached(int handle) -> int", &cached);
  m.def("release(int handle) -> ()", &release);
}
