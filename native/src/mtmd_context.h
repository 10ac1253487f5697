#pragma once

#include <napi.h>

#include <atomic>
#include <list>
#include <mutex>
#include <string>
#include <vector>

#include "model.h"
#include "mtmd.h"

namespace lld {

// Raw RGB image handed to mtmd (mtmd_bitmap). Immutable after creation.
class Bitmap : public Napi::ObjectWrap<Bitmap> {
  public:
    static void Init(Napi::Env env, Napi::Object exports);
    // createBitmap(width, height, rgb, id?) -> Bitmap
    static Napi::Value Create(const Napi::CallbackInfo & info);
    static Bitmap * FromValue(Napi::Env env, const Napi::Value & v);

    explicit Bitmap(const Napi::CallbackInfo & info);
    ~Bitmap() override;

    mtmd_bitmap * bitmap = nullptr;
    std::atomic<int> inUse{0};

  private:
    Napi::Value GetWidth(const Napi::CallbackInfo & info);
    Napi::Value GetHeight(const Napi::CallbackInfo & info);
    Napi::Value GetId(const Napi::CallbackInfo & info);
    Napi::Value Dispose(const Napi::CallbackInfo & info);
    Napi::Value GetDisposed(const Napi::CallbackInfo & info);
};

// Encoded image embeddings, cached by chunk id (the bitmap id: a content hash unless given).
struct EmbdCacheEntry {
    std::string id;
    size_t nTokens;
    std::vector<float> embd;
};

// Multimodal projector context (mtmd_context). Created by `initMtmd(model, mmprojPath, opts)`.
class Mtmd : public Napi::ObjectWrap<Mtmd> {
  public:
    static void Init(Napi::Env env, Napi::Object exports);
    static Napi::Value Create(const Napi::CallbackInfo & info);

    explicit Mtmd(const Napi::CallbackInfo & info);
    ~Mtmd() override;

    mtmd_context * ctx = nullptr;
    ModelHandlePtr model;  // the text model this projector feeds
    std::atomic<int> running{0};
    int32_t nEmbdInp = 0;

    // encoding is not thread-safe: one encode at a time per mtmd context
    std::mutex encodeMutex;
    // embedding cache (LRU, front = most recent)
    std::mutex cacheMutex;
    std::list<EmbdCacheEntry> cache;
    size_t cacheMaxEntries = 4;

    bool CacheGet(const std::string & id, size_t nTokens, std::vector<float> & out);
    void CachePut(const std::string & id, size_t nTokens, const float * embd, size_t nFloats);

  private:
    void Free();
    void EnsureAlive(Napi::Env env) const;

    Napi::Value GetInfo(const Napi::CallbackInfo & info);
    Napi::Value CreateBitmap(const Napi::CallbackInfo & info);
    Napi::Value EvalPrompt(const Napi::CallbackInfo & info);
    Napi::Value EncodeImage(const Napi::CallbackInfo & info);
    Napi::Value ClearCache(const Napi::CallbackInfo & info);
    Napi::Value Dispose(const Napi::CallbackInfo & info);
    Napi::Value GetDisposed(const Napi::CallbackInfo & info);
};

}  // namespace lld
