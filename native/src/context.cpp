#include "context.h"

#include <thread>

#include "common.h"
#include "model.h"

namespace lld {

namespace {

class CreateContextWorker : public PromiseWorker {
  public:
    CreateContextWorker(Napi::Env env, ModelHandlePtr model, llama_context_params params)
        : PromiseWorker(env, "llava_desk.createContext"), model_(std::move(model)), params_(params) {}

    ~CreateContextWorker() override {
        if (ctx_ != nullptr) {
            llama_free(ctx_);
        }
    }

  protected:
    void Run() override {
        ctx_ = llama_init_from_model(model_->ptr, params_);
        if (ctx_ == nullptr) {
            throw NativeError(code::kContextFailed,
                              "failed to create the llama context (n_ctx=" + std::to_string(params_.n_ctx) +
                                  ", n_batch=" + std::to_string(params_.n_batch) + "); not enough memory?");
        }
    }

    Napi::Value Result(Napi::Env env) override {
        Napi::Object obj = Data(env).contextCtor.New({InternalConstructArg(env)});
        Context * c = Context::Unwrap(obj);
        c->ctx = ctx_;
        c->model = model_;
        c->kvUnified = params_.kv_unified;
        ctx_ = nullptr;
        return obj;
    }

  private:
    ModelHandlePtr model_;
    llama_context_params params_;
    llama_context * ctx_ = nullptr;
};

}  // namespace

void Context::Init(Napi::Env env, Napi::Object exports) {
    Napi::Function ctor = DefineClass(env, "Context",
                                      {
                                          InstanceMethod("getInfo", &Context::GetInfo),
                                          InstanceMethod("kvRemove", &Context::KvRemove),
                                          InstanceMethod("kvCopy", &Context::KvCopy),
                                          InstanceMethod("kvKeep", &Context::KvKeep),
                                          InstanceMethod("kvClear", &Context::KvClear),
                                          InstanceMethod("kvPosMax", &Context::KvPosMax),
                                          InstanceMethod("kvPosMin", &Context::KvPosMin),
                                          InstanceMethod("abort", &Context::Abort),
                                          InstanceMethod("dispose", &Context::Dispose),
                                          InstanceAccessor("disposed", &Context::GetDisposed, nullptr),
                                          InstanceAccessor("busy", &Context::GetBusy, nullptr),
                                      });
    Data(env).contextCtor = Napi::Persistent(ctor);
    exports.Set("Context", ctor);
    exports.Set("createContext", Napi::Function::New(env, &Context::Create, "createContext"));
}

Context::Context(const Napi::CallbackInfo & info) : Napi::ObjectWrap<Context>(info) {
    if (!IsInternalConstruct(info)) {
        Throw(info.Env(), code::kInvalidArgument, "Context cannot be constructed directly; use createContext()");
    }
}

Context::~Context() { Free(); }

void Context::Free() {
    if (ctx != nullptr) {
        llama_free(ctx);
        ctx = nullptr;
    }
    model.reset();
}

bool Context::AbortCallback(void * data) { return static_cast<Context *>(data)->abortFlag.load(); }

Context * Context::FromValue(Napi::Env env, const Napi::Value & v, const char * what) {
    if (!v.IsObject() || !v.As<Napi::Object>().InstanceOf(Data(env).contextCtor.Value())) {
        Throw(env, code::kInvalidArgument, std::string(what) + " must be a Context");
    }
    Context * c = Context::Unwrap(v.As<Napi::Object>());
    c->EnsureAlive(env);
    return c;
}

void Context::EnsureAlive(Napi::Env env) const {
    if (ctx == nullptr) {
        Throw(env, code::kDisposed, "the context has been disposed");
    }
}

void Context::Acquire(Napi::Env env) {
    EnsureAlive(env);
    bool expected = false;
    if (!busy.compare_exchange_strong(expected, true)) {
        Throw(env, code::kContextBusy, "another evalPrompt/generate is running on this context");
    }
    abortFlag.store(false);
    llama_set_abort_callback(ctx, &Context::AbortCallback, this);
}

void Context::CheckSeq(Napi::Env env, int32_t seqId) const {
    if (seqId < 0 || static_cast<uint32_t>(seqId) >= llama_n_seq_max(ctx)) {
        Throw(env, code::kInvalidArgument,
              "seqId " + std::to_string(seqId) + " is out of range [0, " + std::to_string(llama_n_seq_max(ctx)) + ")");
    }
}

static llama_flash_attn_type ParseFlashAttn(Napi::Env env, const Napi::Object & opts) {
    if (!opts.Has("flashAttn") || opts.Get("flashAttn").IsUndefined()) {
        return LLAMA_FLASH_ATTN_TYPE_AUTO;
    }
    Napi::Value v = opts.Get("flashAttn");
    if (v.IsBoolean()) {
        return v.As<Napi::Boolean>().Value() ? LLAMA_FLASH_ATTN_TYPE_ENABLED : LLAMA_FLASH_ATTN_TYPE_DISABLED;
    }
    if (v.IsString() && v.As<Napi::String>().Utf8Value() == "auto") {
        return LLAMA_FLASH_ATTN_TYPE_AUTO;
    }
    Throw(env, code::kInvalidArgument, "option 'flashAttn' must be true, false or 'auto'");
}

// createContext(model, { nCtx, nBatch, nUbatch, nSeqMax, nThreads, nThreadsBatch, flashAttn, kvUnified }) -> Promise<Context>
// kvUnified (default true): one KV cell pool shared by all sequences, so that a copied prefix
// shares cells instead of copying data. Without it each sequence has its own buffer of nCtx /
// nSeqMax cells and attends only to those, which is faster when several sequences are cached.
Napi::Value Context::Create(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    return AsPromise(env, [&]() -> Napi::Value {
        Model * model = Model::FromValue(env, info.Length() > 0 ? info[0] : env.Undefined(), "model");
        Napi::Object opts = OptObject(info, 1);
        llama_context_params p = llama_context_default_params();
        const int32_t hw = static_cast<int32_t>(std::thread::hardware_concurrency());
        p.n_ctx = OptUint(opts, "nCtx", 4096);
        p.n_batch = OptUint(opts, "nBatch", 2048);
        p.n_ubatch = OptUint(opts, "nUbatch", 512);
        p.n_seq_max = OptUint(opts, "nSeqMax", 1);
        p.n_threads = OptInt(opts, "nThreads", hw > 0 ? hw : 4);
        p.n_threads_batch = OptInt(opts, "nThreadsBatch", p.n_threads);
        p.flash_attn_type = ParseFlashAttn(env, opts);
        p.kv_unified = OptBool(opts, "kvUnified", true);
        p.no_perf = false;
        if (p.n_batch == 0 || p.n_ubatch == 0 || p.n_seq_max == 0 || p.n_threads <= 0 || p.n_threads_batch <= 0) {
            Throw(env, code::kInvalidArgument, "nBatch, nUbatch, nSeqMax and nThreads must be positive");
        }
        if (p.n_seq_max > llama_max_parallel_sequences()) {
            Throw(env, code::kInvalidArgument, "nSeqMax must be at most " + std::to_string(llama_max_parallel_sequences()));
        }
        if (p.n_ubatch > p.n_batch) {
            p.n_ubatch = p.n_batch;
        }
        auto * worker = new CreateContextWorker(env, model->handle, p);
        Napi::Promise promise = worker->Promise();
        worker->Queue();
        return promise;
    });
}

Napi::Value Context::GetInfo(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    EnsureAlive(env);
    Napi::Object o = Napi::Object::New(env);
    o.Set("nCtx", llama_n_ctx(ctx));
    o.Set("nCtxSeq", llama_n_ctx_seq(ctx));
    o.Set("nBatch", llama_n_batch(ctx));
    o.Set("nUbatch", llama_n_ubatch(ctx));
    o.Set("nSeqMax", llama_n_seq_max(ctx));
    o.Set("nThreads", llama_n_threads(ctx));
    o.Set("nThreadsBatch", llama_n_threads_batch(ctx));
    return o;
}

static void EnsureIdle(Napi::Env env, const Context * c) {
    c->EnsureAlive(env);
    if (c->busy.load()) {
        Throw(env, code::kContextBusy, "cannot change the KV cache while evalPrompt/generate is running");
    }
}

// kvRemove(seqId, p0 = 0, p1 = -1): boolean   (seqId -1 = all sequences; p1 -1 = to the end)
Napi::Value Context::KvRemove(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    EnsureIdle(env, this);
    int32_t seq = ArgInt(info, 0, "seqId");
    if (seq != -1) {
        CheckSeq(env, seq);
    }
    int32_t p0 = info.Length() > 1 && !info[1].IsUndefined() ? ArgInt(info, 1, "p0") : 0;
    int32_t p1 = info.Length() > 2 && !info[2].IsUndefined() ? ArgInt(info, 2, "p1") : -1;
    return Napi::Boolean::New(env, llama_memory_seq_rm(llama_get_memory(ctx), seq, p0, p1));
}

// kvCopy(srcSeqId, dstSeqId, p0 = 0, p1 = -1): dst gets src's cells in [p0, p1). Without kvUnified,
// dst's previous cells are dropped (each sequence has its own buffer, copied whole).
Napi::Value Context::KvCopy(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    EnsureIdle(env, this);
    int32_t src = ArgInt(info, 0, "srcSeqId");
    int32_t dst = ArgInt(info, 1, "dstSeqId");
    CheckSeq(env, src);
    CheckSeq(env, dst);
    int32_t p0 = info.Length() > 2 && !info[2].IsUndefined() ? ArgInt(info, 2, "p0") : 0;
    int32_t p1 = info.Length() > 3 && !info[3].IsUndefined() ? ArgInt(info, 3, "p1") : -1;
    llama_memory_t mem = llama_get_memory(ctx);
    if (kvUnified || src == dst) {
        llama_memory_seq_cp(mem, src, dst, p0, p1);
        return env.Undefined();
    }
    // Separate KV buffers: llama.cpp copies only whole buffers (and aborts the process on a partial
    // copy), replacing what dst held; the range asked for is then cut out of the copy.
    llama_memory_seq_cp(mem, src, dst, -1, -1);
    if (p1 >= 0) {
        llama_memory_seq_rm(mem, dst, p1, -1);
    }
    if (p0 > 0) {
        llama_memory_seq_rm(mem, dst, 0, p0);
    }
    return env.Undefined();
}

// kvKeep(seqId): drop every other sequence
Napi::Value Context::KvKeep(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    EnsureIdle(env, this);
    int32_t seq = ArgInt(info, 0, "seqId");
    CheckSeq(env, seq);
    llama_memory_seq_keep(llama_get_memory(ctx), seq);
    return env.Undefined();
}

// kvClear(): clear the whole KV cache (all sequences)
Napi::Value Context::KvClear(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    EnsureIdle(env, this);
    llama_memory_clear(llama_get_memory(ctx), true);
    return env.Undefined();
}

// kvPosMax(seqId): largest position in the sequence, -1 when empty
Napi::Value Context::KvPosMax(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    EnsureIdle(env, this);
    int32_t seq = ArgInt(info, 0, "seqId");
    CheckSeq(env, seq);
    return Napi::Number::New(env, llama_memory_seq_pos_max(llama_get_memory(ctx), seq));
}

Napi::Value Context::KvPosMin(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    EnsureIdle(env, this);
    int32_t seq = ArgInt(info, 0, "seqId");
    CheckSeq(env, seq);
    return Napi::Number::New(env, llama_memory_seq_pos_min(llama_get_memory(ctx), seq));
}

// abort(): ask the running evalPrompt/generate to stop (checked before each token and inside decode)
Napi::Value Context::Abort(const Napi::CallbackInfo & info) {
    abortFlag.store(true);
    return info.Env().Undefined();
}

Napi::Value Context::Dispose(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (ctx == nullptr) {
        return env.Undefined();
    }
    if (busy.load()) {
        Throw(env, code::kContextBusy, "cannot dispose the context while evalPrompt/generate is running; abort() and await it first");
    }
    Free();
    return env.Undefined();
}

Napi::Value Context::GetDisposed(const Napi::CallbackInfo & info) { return Napi::Boolean::New(info.Env(), ctx == nullptr); }

Napi::Value Context::GetBusy(const Napi::CallbackInfo & info) { return Napi::Boolean::New(info.Env(), busy.load()); }

}  // namespace lld
