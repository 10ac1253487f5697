#include "init_mtmd_worker.h"

#include "mtmd_context.h"

namespace lld {

InitMtmdWorker::InitMtmdWorker(Napi::Env env, ModelHandlePtr model, InitMtmdArgs args)
    : PromiseWorker(env, "llava_desk.initMtmd"), model_(std::move(model)), args_(std::move(args)) {}

InitMtmdWorker::~InitMtmdWorker() {
    if (ctx_ != nullptr) {
        mtmd_free(ctx_);
    }
}

void InitMtmdWorker::Run() {
    ValidateGguf(args_.path, code::kMmprojLoadFailed, "mmproj");
    mtmd_context_params p = mtmd_context_params_default();
    p.use_gpu = args_.useGpu;
    p.print_timings = false;
    p.n_threads = args_.nThreads;
    p.warmup = args_.warmup;
    p.flash_attn_type = args_.flashAttn;
    if (args_.imageMinTokens > 0) {
        p.image_min_tokens = args_.imageMinTokens;
    }
    if (args_.imageMaxTokens > 0) {
        p.image_max_tokens = args_.imageMaxTokens;
    }
    TakeLastMtmdError();
    ctx_ = mtmd_init_from_file(args_.path.c_str(), model_->ptr, p);
    if (ctx_ == nullptr) {
        std::string detail = TakeLastMtmdError();
        throw NativeError(code::kMmprojLoadFailed, "failed to load the multimodal projector from " + args_.path +
                                                       (detail.empty() ? std::string() : ": " + detail));
    }
}

Napi::Value InitMtmdWorker::Result(Napi::Env env) {
    Napi::Object obj = Data(env).mtmdCtor.New({InternalConstructArg(env)});
    Mtmd * m = Mtmd::Unwrap(obj);
    m->ctx = ctx_;
    m->model = model_;
    m->nEmbdInp = llama_model_n_embd_inp(model_->ptr);
    m->cache.SetCapacity(args_.cacheEntries);
    ctx_ = nullptr;
    return obj;
}

}  // namespace lld
