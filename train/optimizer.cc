#include "train/optimizer.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <cmath>
#include <map>

namespace tune::train {

AdamW::AdamW(std::vector<std::pair<std::string, at::Tensor>> params, const AdamWOptions& options)
    : params_(std::move(params)), options_(options) {
  c10::NoGradGuard no_grad;
  for (const auto& [name, p] : params_) {
    const at::TensorOptions state = at::TensorOptions()
                                        .dtype(at::kFloat)
                                        .device(options_.offload ? at::Device(at::kCPU) : p.device())
                                        .pinned_memory(options_.offload && p.is_cuda());
    exp_avg_.push_back(at::zeros(p.sizes(), state));
    exp_avg_sq_.push_back(at::zeros(p.sizes(), state));
    const bool needs_master = options_.offload || p.scalar_type() != at::kFloat;
    master_.push_back(needs_master ? at::empty(p.sizes(), state).copy_(p) : at::Tensor());
  }
}

void AdamW::Step(double lr) {
  c10::NoGradGuard no_grad;
  ++step_;
  const double bias1 = 1.0 - std::pow(options_.beta1, static_cast<double>(step_));
  const double bias2 = 1.0 - std::pow(options_.beta2, static_cast<double>(step_));
  for (size_t i = 0; i < params_.size(); ++i) {
    at::Tensor p = params_[i].second;
    if (!p.grad().defined()) continue;
    at::Tensor w = master_[i].defined() ? master_[i] : p;
    // A no-op for an f32 grad already beside w; else the copy down (offload) or the widening.
    const at::Tensor g = p.grad().to(w.device(), at::kFloat);
    if (options_.weight_decay > 0) w.mul_(1.0 - lr * options_.weight_decay);
    exp_avg_[i].mul_(options_.beta1).add_(g, 1.0 - options_.beta1);
    exp_avg_sq_[i].mul_(options_.beta2).addcmul_(g, g, 1.0 - options_.beta2);
    at::Tensor denom = (exp_avg_sq_[i] / bias2).sqrt_().add_(options_.eps);
    w.addcdiv_(exp_avg_[i], denom, -lr / bias1);
    if (master_[i].defined()) p.copy_(w);
  }
}

void AdamW::ZeroGrad() {
  for (auto& [name, p] : params_) {
    if (p.grad().defined()) p.mutable_grad() = at::Tensor();
  }
}

std::vector<std::pair<std::string, at::Tensor>> AdamW::State() const {
  std::vector<std::pair<std::string, at::Tensor>> out;
  for (size_t i = 0; i < params_.size(); ++i) {
    out.push_back({params_[i].first + ".exp_avg", exp_avg_[i]});
    out.push_back({params_[i].first + ".exp_avg_sq", exp_avg_sq_[i]});
    if (params_[i].second.scalar_type() != at::kFloat) out.push_back({params_[i].first + ".master", master_[i]});
  }
  return out;
}

bool AdamW::Restore(const std::vector<std::pair<std::string, at::Tensor>>& state, int64_t step) {
  std::map<std::string, at::Tensor> by_name(state.begin(), state.end());
  for (size_t i = 0; i < params_.size(); ++i) {
    auto m = by_name.find(params_[i].first + ".exp_avg");
    auto v = by_name.find(params_[i].first + ".exp_avg_sq");
    if (m == by_name.end() || v == by_name.end() || m->second.sizes() != exp_avg_[i].sizes() ||
        v->second.sizes() != exp_avg_sq_[i].sizes()) {
      return false;
    }
    exp_avg_[i].copy_(m->second);
    exp_avg_sq_[i].copy_(v->second);
    if (!master_[i].defined()) continue;
    const at::Tensor& p = params_[i].second;
    auto master = by_name.find(params_[i].first + ".master");
    if (master != by_name.end() && master->second.sizes() == p.sizes()) {
      master_[i].copy_(master->second);
    } else if (p.scalar_type() == at::kFloat) {
      master_[i].copy_(p.detach());
    } else {
      return false;
    }
  }
  step_ = step;
  return true;
}

double LearningRate(int64_t step, int64_t total, int64_t warmup, double peak, double min_ratio) {
  if (step < warmup) return peak * static_cast<double>(step + 1) / static_cast<double>(warmup + 1);
  const double span = static_cast<double>(std::max<int64_t>(1, total - warmup));
  const double progress = std::min(1.0, static_cast<double>(step - warmup) / span);
  const double cosine = 0.5 * (1.0 + std::cos(M_PI * progress));
  return peak * (min_ratio + (1.0 - min_ratio) * cosine);
}

double ClipGradNorm(const std::vector<std::pair<std::string, at::Tensor>>& params, double max_norm) {
  c10::NoGradGuard no_grad;
  // Summed on the grads' device and read once: one synchronization per step on a GPU.
  at::Tensor sum_sq;
  for (const auto& [name, p] : params) {
    if (!p.grad().defined()) continue;
    at::Tensor s = p.grad().to(at::kDouble).pow(2).sum();
    sum_sq = sum_sq.defined() ? sum_sq + s : s;
  }
  const double norm = sum_sq.defined() ? std::sqrt(sum_sq.item<double>()) : 0.0;
  if (max_norm > 0 && norm > max_norm) {
    const double scale = max_norm / (norm + 1e-6);
    for (const auto& [name, p] : params) {
      if (p.grad().defined()) p.grad().mul_(scale);
    }
  }
  return norm;
}

}  // namespace tune::train
