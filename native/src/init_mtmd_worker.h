#pragma once

#include <napi.h>

#include <string>

#include "common.h"
#include "llama.h"
#include "model.h"
#include "mtmd.h"

namespace lld {

// initMtmd's options, read on the JS thread.
struct InitMtmdArgs {
    std::string path;
    int32_t nThreads;
    bool useGpu;
    bool warmup;
    int32_t imageMinTokens;
    int32_t imageMaxTokens;
    llama_flash_attn_type flashAttn;
    uint32_t cacheEntries;
};

// Loads the projector (checked with ValidateGguf first) on a worker thread; resolves to an Mtmd.
class InitMtmdWorker : public PromiseWorker {
  public:
    InitMtmdWorker(Napi::Env env, ModelHandlePtr model, InitMtmdArgs args);
    ~InitMtmdWorker() override;

  protected:
    void Run() override;
    Napi::Value Result(Napi::Env env) override;

  private:
    ModelHandlePtr model_;
    InitMtmdArgs args_;
    mtmd_context * ctx_ = nullptr;
};

}  // namespace lld
