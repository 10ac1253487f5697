#pragma once

#include <napi.h>

namespace lld {

// createSampler(model, options) -> NativeSampler: a sampler chain (its repeat-penalty history and
// random state) that lives across decodeStep() calls; freed when collected.
Napi::Value CreateSampler(const Napi::CallbackInfo & info);

// decodeStep(context, entries) -> Promise<StepOutcome[]>
// One token for each entry: sampled from the entry's logits with its sampler, then every sampled
// token decoded together in one llama_decode. Each decoded entry gets the logits its next token is
// sampled from, so other work (a prompt evaluated for a new sequence) may run between two steps.
Napi::Value DecodeStep(const Napi::CallbackInfo & info);

// Adds createSampler and decodeStep to the module's exports.
void RegisterDecodeStep(Napi::Env env, Napi::Object exports);

}  // namespace lld
