#pragma once

#include <napi.h>

#include <atomic>

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

}  // namespace lld
