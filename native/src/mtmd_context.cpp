#include "mtmd_context.h"

#include <string>
#include <thread>
#include <vector>

#include "common.h"
#include "context.h"
#include "encode_image_worker.h"
#include "eval_prompt_worker.h"
#include "init_mtmd_worker.h"

namespace lld {

void Mtmd::Init(Napi::Env env, Napi::Object exports) {
    Napi::Function ctor = DefineClass(env, "Mtmd",
                                      {
                                          InstanceMethod("getInfo", &Mtmd::GetInfo),
                                          InstanceMethod("createBitmap", &Mtmd::CreateBitmap),
                                          InstanceMethod("evalPrompt", &Mtmd::EvalPrompt),
                                          InstanceMethod("encodeImage", &Mtmd::EncodeImage),
                                          InstanceMethod("clearCache", &Mtmd::ClearCache),
                                          InstanceMethod("dispose", &Mtmd::Dispose),
                                          InstanceAccessor("disposed", &Mtmd::GetDisposed, nullptr),
                                      });
    Data(env).mtmdCtor = Napi::Persistent(ctor);
    exports.Set("Mtmd", ctor);
    exports.Set("initMtmd", Napi::Function::New(env, &Mtmd::Create, "initMtmd"));
}

Mtmd::Mtmd(const Napi::CallbackInfo & info) : Napi::ObjectWrap<Mtmd>(info) {
    if (!IsInternalConstruct(info)) {
        Throw(info.Env(), code::kInvalidArgument, "Mtmd cannot be constructed directly; use initMtmd()");
    }
}

Mtmd::~Mtmd() { Free(); }

void Mtmd::Free() {
    if (ctx != nullptr) {
        mtmd_free(ctx);
        ctx = nullptr;
    }
    cache.Clear();
    model.reset();
}

void Mtmd::EnsureAlive(Napi::Env env) const {
    if (ctx == nullptr) {
        Throw(env, code::kDisposed, "the mtmd context has been disposed");
    }
}

// initMtmd(model, mmprojPath, { nThreads, useGpu, warmup, imageMinTokens, imageMaxTokens, flashAttn, cacheEntries })
Napi::Value Mtmd::Create(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    return AsPromise(env, [&]() -> Napi::Value {
        Model * model = Model::FromValue(env, info.Length() > 0 ? info[0] : env.Undefined(), "model");
        InitMtmdArgs args;
        args.path = ArgString(info, 1, "mmprojPath");
        Napi::Object opts = OptObject(info, 2);
        const int32_t hw = static_cast<int32_t>(std::thread::hardware_concurrency());
        args.nThreads = OptInt(opts, "nThreads", hw > 0 ? hw : 4);
        args.useGpu = OptBool(opts, "useGpu", true);
        args.warmup = OptBool(opts, "warmup", true);
        args.imageMinTokens = OptInt(opts, "imageMinTokens", 0);
        args.imageMaxTokens = OptInt(opts, "imageMaxTokens", 0);
        args.cacheEntries = OptUint(opts, "cacheEntries", 4);
        args.flashAttn = LLAMA_FLASH_ATTN_TYPE_AUTO;
        if (opts.Has("flashAttn") && opts.Get("flashAttn").IsBoolean()) {
            args.flashAttn = opts.Get("flashAttn").As<Napi::Boolean>().Value() ? LLAMA_FLASH_ATTN_TYPE_ENABLED
                                                                               : LLAMA_FLASH_ATTN_TYPE_DISABLED;
        }
        if (args.nThreads <= 0) {
            Throw(env, code::kInvalidArgument, "nThreads must be positive");
        }
        auto * worker = new InitMtmdWorker(env, model->handle, std::move(args));
        Napi::Promise p = worker->Promise();
        worker->Queue();
        return p;
    });
}

Napi::Value Mtmd::GetInfo(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    EnsureAlive(env);
    Napi::Object o = Napi::Object::New(env);
    o.Set("supportsVision", mtmd_support_vision(ctx));
    o.Set("supportsAudio", mtmd_support_audio(ctx));
    o.Set("marker", Napi::String::New(env, mtmd_get_marker(ctx)));
    o.Set("defaultMarker", Napi::String::New(env, mtmd_default_marker()));
    o.Set("usesMrope", mtmd_decode_use_mrope(ctx));
    o.Set("usesNonCausal", mtmd_decode_use_non_causal(ctx, nullptr));
    o.Set("nEmbdInp", nEmbdInp);
    return o;
}

Napi::Value Mtmd::CreateBitmap(const Napi::CallbackInfo & info) {
    EnsureAlive(info.Env());
    return Bitmap::Create(info);
}

// evalPrompt(context, seqId, nPast, text, bitmaps, { addSpecial, parseSpecial, nBatch, logitsLast })
Napi::Value Mtmd::EvalPrompt(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    return AsPromise(env, [&]() -> Napi::Value {
        EnsureAlive(env);
        Context * context = Context::FromValue(env, info.Length() > 0 ? info[0] : env.Undefined(), "context");
        if (context->model != model) {
            Throw(env, code::kInvalidArgument, "the context and the mtmd context were created over different models");
        }
        int32_t seqId = ArgInt(info, 1, "seqId");
        context->CheckSeq(env, seqId);
        int32_t nPast = ArgInt(info, 2, "nPast");
        if (nPast < 0) {
            Throw(env, code::kInvalidArgument, "nPast must be >= 0");
        }
        std::string text = ArgString(info, 3, "text");
        std::vector<Bitmap *> bitmaps;
        std::vector<Napi::ObjectReference> refs;
        if (info.Length() > 4 && !info[4].IsUndefined() && !info[4].IsNull()) {
            if (!info[4].IsArray()) {
                Throw(env, code::kInvalidArgument, "bitmaps must be an array");
            }
            Napi::Array arr = info[4].As<Napi::Array>();
            for (uint32_t i = 0; i < arr.Length(); i++) {
                Napi::Value v = arr.Get(i);
                bitmaps.push_back(Bitmap::FromValue(env, v));
                refs.push_back(Napi::Persistent(v.As<Napi::Object>()));
            }
        }
        {
            const std::string marker = mtmd_get_marker(ctx);
            size_t nMarkers = 0;
            for (size_t pos = text.find(marker); pos != std::string::npos; pos = text.find(marker, pos + marker.size())) {
                nMarkers++;
            }
            if (nMarkers != bitmaps.size()) {
                Throw(env, code::kInvalidArgument, "the prompt has " + std::to_string(nMarkers) + " media marker(s) '" + marker +
                                                       "' but " + std::to_string(bitmaps.size()) + " bitmap(s) were given");
            }
        }
        Napi::Object opts = OptObject(info, 5);
        bool addSpecial = OptBool(opts, "addSpecial", true);
        bool parseSpecial = OptBool(opts, "parseSpecial", true);
        int32_t nBatch = OptInt(opts, "nBatch", static_cast<int32_t>(llama_n_batch(context->ctx)));
        bool logitsLast = OptBool(opts, "logitsLast", true);
        if (nBatch <= 0 || static_cast<uint32_t>(nBatch) > llama_n_batch(context->ctx)) {
            Throw(env, code::kInvalidArgument, "nBatch must be in [1, context nBatch]");
        }

        context->Acquire(env);  // throws CONTEXT_BUSY
        running++;
        for (Bitmap * b : bitmaps) {
            b->inUse++;
        }
        EvalPromptTargets targets{this, info.This().As<Napi::Object>(), context, info[0].As<Napi::Object>(),
                                  std::move(bitmaps), std::move(refs)};
        EvalPromptArgs args{seqId, nPast, std::move(text), addSpecial, parseSpecial, nBatch, logitsLast};
        auto * worker = new EvalPromptWorker(env, std::move(targets), std::move(args));
        Napi::Promise p = worker->Promise();
        worker->Queue();
        return p;
    });
}

// encodeImage(bitmap) -> { nTokens, nEmbd, embeddings: Float32Array (nTokens x nEmbd), encodeMs }
Napi::Value Mtmd::EncodeImage(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    return AsPromise(env, [&]() -> Napi::Value {
        EnsureAlive(env);
        Napi::Value v = info.Length() > 0 ? info[0] : env.Undefined();
        Bitmap * bitmap = Bitmap::FromValue(env, v);
        running++;
        bitmap->inUse++;
        auto * worker = new EncodeImageWorker(env, this, info.This().As<Napi::Object>(), bitmap, v.As<Napi::Object>());
        Napi::Promise p = worker->Promise();
        worker->Queue();
        return p;
    });
}

Napi::Value Mtmd::ClearCache(const Napi::CallbackInfo & info) {
    cache.Clear();
    return info.Env().Undefined();
}

Napi::Value Mtmd::Dispose(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (ctx == nullptr) {
        return env.Undefined();
    }
    if (running.load() > 0) {
        Throw(env, code::kInUse, "cannot dispose the mtmd context while evalPrompt is running");
    }
    Free();
    return env.Undefined();
}

Napi::Value Mtmd::GetDisposed(const Napi::CallbackInfo & info) { return Napi::Boolean::New(info.Env(), ctx == nullptr); }

}  // namespace lld
