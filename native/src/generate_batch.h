#pragma once

#include <napi.h>

namespace lld {

// generateMany(context, requests, onTokens?) -> Promise<GenerateResult[]>
// Advances several sequences together: one llama_decode per step holds one token of each.
Napi::Value GenerateMany(const Napi::CallbackInfo & info);

// readLogits(context) -> Float32Array: a copy of the logits the last evaluation left (last token).
Napi::Value ReadLogits(const Napi::CallbackInfo & info);

// Adds generateMany and readLogits to the module's exports.
void RegisterGenerateBatch(Napi::Env env, Napi::Object exports);

}  // namespace lld
