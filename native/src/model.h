#pragma once

#include <napi.h>

#include <memory>
#include <string>

#include "llama.h"

namespace lld {

// Owns a llama_model. Shared by the Model wrapper and every Context / Mtmd built over it, so the
// model is freed only after all of them, whatever order finalizers run in (e.g. at env teardown).
struct ModelHandle {
    llama_model * ptr = nullptr;
    explicit ModelHandle(llama_model * p) : ptr(p) {}
    ModelHandle(const ModelHandle &) = delete;
    ModelHandle & operator=(const ModelHandle &) = delete;
    ~ModelHandle() {
        if (ptr != nullptr) {
            llama_model_free(ptr);
        }
    }
};
using ModelHandlePtr = std::shared_ptr<ModelHandle>;

// A loaded text model (llama_model). Created by `loadModel()`; JS cannot `new` it.
class Model : public Napi::ObjectWrap<Model> {
  public:
    static void Init(Napi::Env env, Napi::Object exports);
    static Napi::Value Load(const Napi::CallbackInfo & info);  // loadModel(path, opts) -> Promise<Model>
    static Model * FromValue(Napi::Env env, const Napi::Value & v, const char * what);

    explicit Model(const Napi::CallbackInfo & info);
    ~Model() override;

    ModelHandlePtr handle;  // empty once disposed
    llama_model * model = nullptr;
    const llama_vocab * vocab = nullptr;
    std::string path;

    void EnsureAlive(Napi::Env env) const;

  private:
    void Free();

    Napi::Value GetInfo(const Napi::CallbackInfo & info);
    Napi::Value Tokenize(const Napi::CallbackInfo & info);
    Napi::Value Detokenize(const Napi::CallbackInfo & info);
    Napi::Value TokenToPiece(const Napi::CallbackInfo & info);
    Napi::Value IsEog(const Napi::CallbackInfo & info);
    Napi::Value Dispose(const Napi::CallbackInfo & info);
    Napi::Value GetDisposed(const Napi::CallbackInfo & info);
};

}  // namespace lld
