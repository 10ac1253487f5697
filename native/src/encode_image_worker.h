#pragma once

#include <napi.h>

#include <vector>

#include "bitmap.h"
#include "common.h"

namespace lld {

class Mtmd;

// Encodes one bitmap (CLIP + projector) without touching any llama context or the embedding cache:
// the embeddings exactly as evalPrompt would feed them to the LLM (a diagnostic; see `llava-desk
// embed`). A bitmap that libmtmd splits into several image chunks yields their rows in order.
class EncodeImageWorker : public PromiseWorker {
  public:
    EncodeImageWorker(Napi::Env env, Mtmd * mtmd, Napi::Object mtmdObj, Bitmap * bitmap, Napi::Object bitmapObj);

  protected:
    void Run() override;
    void Finish() override;
    Napi::Value Result(Napi::Env env) override;

  private:
    Mtmd * mtmd_;
    Bitmap * bitmap_;
    Napi::ObjectReference mtmdRef_;
    Napi::ObjectReference bitmapRef_;
    std::vector<float> embd_;
    size_t nTokens_ = 0;
    double encodeMs_ = 0;
};

}  // namespace lld
