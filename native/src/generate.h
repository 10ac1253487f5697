#pragma once

#include <napi.h>

namespace lld {

// generate(context, seqId, nPast, opts, onToken?) -> Promise<GenerateResult>
Napi::Value Generate(const Napi::CallbackInfo & info);

}  // namespace lld
