#include "mtmd_context.h"

#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>

#include "common.h"
#include "context.h"
#include "model.h"
#include "mtmd-helper.h"

namespace lld {

namespace {

double NowMs() {
    using namespace std::chrono;
    return duration<double, std::milli>(steady_clock::now().time_since_epoch()).count();
}

// Fast, non-cryptographic 64-bit content hash (used as the default bitmap id for the embedding cache).
uint64_t HashBytes(const uint8_t * data, size_t len) {
    const uint64_t k = 0x9E3779B97F4A7C15ull;
    uint64_t h = 0xCBF29CE484222325ull ^ (len * k);
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        std::memcpy(&w, data + i, 8);
        h ^= w;
        h *= k;
        h ^= h >> 29;
    }
    for (; i < len; i++) {
        h ^= data[i];
        h *= 0x100000001B3ull;
    }
    h ^= h >> 33;
    h *= 0xFF51AFD7ED558CCDull;
    h ^= h >> 33;
    return h;
}

// ---- initMtmd -----------------------------------------------------------------------------------

struct InitArgs {
    std::string path;
    int32_t nThreads;
    bool useGpu;
    bool warmup;
    int32_t imageMinTokens;
    int32_t imageMaxTokens;
    llama_flash_attn_type flashAttn;
    uint32_t cacheEntries;
};

class InitMtmdWorker : public PromiseWorker {
  public:
    InitMtmdWorker(Napi::Env env, ModelHandlePtr model, InitArgs args)
        : PromiseWorker(env, "llava_desk.initMtmd"), model_(std::move(model)), args_(std::move(args)) {}

    ~InitMtmdWorker() override {
        if (ctx_ != nullptr) {
            mtmd_free(ctx_);
        }
    }

  protected:
    void Run() override {
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

    Napi::Value Result(Napi::Env env) override {
        Napi::Object obj = Data(env).mtmdCtor.New({InternalConstructArg(env)});
        Mtmd * m = Mtmd::Unwrap(obj);
        m->ctx = ctx_;
        m->model = model_;
        m->nEmbdInp = llama_model_n_embd_inp(model_->ptr);
        m->cacheMaxEntries = args_.cacheEntries;
        ctx_ = nullptr;
        return obj;
    }

  private:
    ModelHandlePtr model_;
    InitArgs args_;
    mtmd_context * ctx_ = nullptr;
};

// ---- evalPrompt ---------------------------------------------------------------------------------

struct ChunkStat {
    std::string type;
    size_t nTokens;
    std::string id;
    bool cached;
};

class EvalPromptWorker : public PromiseWorker {
  public:
    EvalPromptWorker(Napi::Env env, Mtmd * mtmd, Napi::Object mtmdObj, Context * context, Napi::Object contextObj,
                     std::vector<Bitmap *> bitmaps, std::vector<Napi::ObjectReference> bitmapRefs, int32_t seqId,
                     int32_t nPast, std::string text, bool addSpecial, bool parseSpecial, int32_t nBatch,
                     bool logitsLast)
        : PromiseWorker(env, "llava_desk.evalPrompt"),
          mtmd_(mtmd),
          context_(context),
          bitmaps_(std::move(bitmaps)),
          bitmapRefs_(std::move(bitmapRefs)),
          seqId_(seqId),
          nPast_(nPast),
          text_(std::move(text)),
          addSpecial_(addSpecial),
          parseSpecial_(parseSpecial),
          nBatch_(nBatch),
          logitsLast_(logitsLast) {
        mtmdRef_ = Napi::Persistent(mtmdObj);
        contextRef_ = Napi::Persistent(contextObj);
    }

  protected:
    void Run() override {
        const double tStart = NowMs();
        llama_context * lctx = context_->ctx;
        mtmd::input_chunks chunks(mtmd_input_chunks_init());
        mtmd_input_text txt{text_.c_str(), text_.size(), addSpecial_, parseSpecial_};
        std::vector<const mtmd_bitmap *> bms;
        bms.reserve(bitmaps_.size());
        for (Bitmap * b : bitmaps_) {
            bms.push_back(b->bitmap);
        }
        TakeLastMtmdError();
        int32_t r = mtmd_tokenize(mtmd_->ctx, chunks.ptr.get(), &txt, bms.data(), bms.size());
        if (r == 1) {
            const std::string marker = mtmd_get_marker(mtmd_->ctx);
            size_t nMarkers = 0;
            for (size_t pos = text_.find(marker); pos != std::string::npos; pos = text_.find(marker, pos + marker.size())) {
                nMarkers++;
            }
            throw NativeError(code::kInvalidArgument, "the prompt has " + std::to_string(nMarkers) + " media marker(s) '" +
                                                          marker + "' but " + std::to_string(bms.size()) +
                                                          " bitmap(s) were given");
        }
        if (r == 2) {
            std::string detail = TakeLastMtmdError();
            throw NativeError(code::kImageFailed, "image preprocessing failed" + (detail.empty() ? "" : ": " + detail));
        }
        if (r != 0) {
            throw NativeError(code::kTokenizeFailed, "mtmd_tokenize failed with code " + std::to_string(r));
        }

        const size_t nChunks = chunks.size();
        const llama_pos nPos = mtmd_helper_get_n_pos(chunks.ptr.get());
        const uint32_t nCtxSeq = llama_n_ctx_seq(lctx);
        if (static_cast<int64_t>(nPast_) + nPos > static_cast<int64_t>(nCtxSeq)) {
            throw NativeError(code::kContextFull, "the prompt needs " + std::to_string(nPos) + " positions after nPast=" +
                                                      std::to_string(nPast_) + " but the context holds " +
                                                      std::to_string(nCtxSeq) + " per sequence");
        }

        llama_pos nPast = nPast_;
        try {
            for (size_t i = 0; i < nChunks; i++) {
                if (context_->abortFlag.load()) {
                    throw NativeError(code::kAborted, "evalPrompt was aborted");
                }
                const mtmd_input_chunk * chunk = chunks[i];
                const bool isLast = i + 1 == nChunks;
                const auto type = mtmd_input_chunk_get_type(chunk);
                const size_t nTok = mtmd_input_chunk_get_n_tokens(chunk);
                llama_pos newNPast = nPast;
                if (type == MTMD_INPUT_CHUNK_TYPE_TEXT) {
                    const double t0 = NowMs();
                    int32_t ret = mtmd_helper_eval_chunk_single(mtmd_->ctx, lctx, chunk, nPast, seqId_, nBatch_,
                                                                isLast && logitsLast_, &newNPast);
                    decodeMs_ += NowMs() - t0;
                    CheckDecode(ret, "text");
                    textTokens_ += nTok;
                    stats_.push_back({"text", nTok, std::string(), false});
                } else {
                    const char * cid = mtmd_input_chunk_get_id(chunk);
                    const std::string id = cid != nullptr ? cid : "";
                    std::vector<float> embd;
                    bool cached = !id.empty() && mtmd_->CacheGet(id, nTok, embd);
                    if (!cached) {
                        const size_t nFloats = static_cast<size_t>(mtmd_->nEmbdInp) * nTok;
                        std::lock_guard<std::mutex> lock(mtmd_->encodeMutex);
                        const double t0 = NowMs();
                        TakeLastMtmdError();
                        int32_t ret = mtmd_encode_chunk(mtmd_->ctx, chunk);
                        encodeMs_ += NowMs() - t0;
                        if (ret != 0) {
                            std::string detail = TakeLastMtmdError();
                            throw NativeError(code::kEncodeFailed,
                                              "image encoding failed" + (detail.empty() ? "" : ": " + detail));
                        }
                        const float * out = mtmd_get_output_embd(mtmd_->ctx);
                        embd.assign(out, out + nFloats);
                        if (!id.empty()) {
                            mtmd_->CachePut(id, nTok, embd.data(), embd.size());
                        }
                    } else {
                        cachedImages_++;
                    }
                    const double t0 = NowMs();
                    int32_t ret = mtmd_helper_decode_image_chunk(mtmd_->ctx, lctx, chunk, embd.data(), nPast, seqId_,
                                                                 nBatch_, &newNPast, nullptr, nullptr);
                    decodeMs_ += NowMs() - t0;
                    CheckDecode(ret, "image");
                    imageTokens_ += nTok;
                    stats_.push_back({type == MTMD_INPUT_CHUNK_TYPE_AUDIO ? "audio" : "image", nTok, id, cached});
                    if (isLast && logitsLast_) {
                        logitsReady_ = false;  // media chunks produce no logits
                    }
                }
                nPast = newNPast;
            }
        } catch (...) {
            // roll the sequence back to where it was so the caller's nPast stays valid
            llama_memory_seq_rm(llama_get_memory(lctx), seqId_, nPast_, -1);
            throw;
        }
        newNPast_ = nPast;
        if (!logitsLast_) {
            logitsReady_ = false;
        }
        totalMs_ = NowMs() - tStart;
    }

    void Finish() override {
        context_->Release();
        mtmd_->running--;
        for (Bitmap * b : bitmaps_) {
            b->inUse--;
        }
    }

    Napi::Value Result(Napi::Env env) override {
        Napi::Object o = Napi::Object::New(env);
        o.Set("nPast", newNPast_);
        o.Set("textTokens", static_cast<double>(textTokens_));
        o.Set("imageTokens", static_cast<double>(imageTokens_));
        o.Set("encodeMs", encodeMs_);
        o.Set("decodeMs", decodeMs_);
        o.Set("totalMs", totalMs_);
        o.Set("cachedImages", cachedImages_);
        o.Set("logitsReady", logitsReady_);
        Napi::Array chunks = Napi::Array::New(env, stats_.size());
        for (size_t i = 0; i < stats_.size(); i++) {
            Napi::Object c = Napi::Object::New(env);
            c.Set("type", stats_[i].type);
            c.Set("nTokens", static_cast<double>(stats_[i].nTokens));
            if (!stats_[i].id.empty()) {
                c.Set("id", stats_[i].id);
            }
            c.Set("cached", stats_[i].cached);
            chunks.Set(static_cast<uint32_t>(i), c);
        }
        o.Set("chunks", chunks);
        return o;
    }

  private:
    void CheckDecode(int32_t ret, const char * what) {
        if (ret == 0) {
            return;
        }
        if (ret == 2 || context_->abortFlag.load()) {
            throw NativeError(code::kAborted, "evalPrompt was aborted");
        }
        if (ret == 1) {
            throw NativeError(code::kContextFull, std::string("no KV cache slot for the ") + what + " tokens (context full)");
        }
        throw NativeError(code::kDecodeFailed, std::string("llama_decode failed for ") + what + " tokens (code " +
                                                   std::to_string(ret) + ")");
    }

    Mtmd * mtmd_;
    Context * context_;
    std::vector<Bitmap *> bitmaps_;
    std::vector<Napi::ObjectReference> bitmapRefs_;
    Napi::ObjectReference mtmdRef_;
    Napi::ObjectReference contextRef_;
    int32_t seqId_;
    int32_t nPast_;
    std::string text_;
    bool addSpecial_;
    bool parseSpecial_;
    int32_t nBatch_;
    bool logitsLast_;

    llama_pos newNPast_ = 0;
    size_t textTokens_ = 0;
    size_t imageTokens_ = 0;
    double encodeMs_ = 0;
    double decodeMs_ = 0;
    double totalMs_ = 0;
    int32_t cachedImages_ = 0;
    bool logitsReady_ = true;
    std::vector<ChunkStat> stats_;
};

// ---- encodeImage --------------------------------------------------------------------------------

// Encodes one bitmap (CLIP + projector) without touching any llama context or the embedding cache:
// the embeddings exactly as evalPrompt would feed them to the LLM (a diagnostic; see `llava-desk
// embed`). A bitmap that libmtmd splits into several image chunks yields their rows in order.
class EncodeImageWorker : public PromiseWorker {
  public:
    EncodeImageWorker(Napi::Env env, Mtmd * mtmd, Napi::Object mtmdObj, Bitmap * bitmap, Napi::Object bitmapObj)
        : PromiseWorker(env, "llava_desk.encodeImage"), mtmd_(mtmd), bitmap_(bitmap) {
        mtmdRef_ = Napi::Persistent(mtmdObj);
        bitmapRef_ = Napi::Persistent(bitmapObj);
    }

  protected:
    void Run() override {
        const double tStart = NowMs();
        mtmd::input_chunks chunks(mtmd_input_chunks_init());
        const std::string marker = mtmd_get_marker(mtmd_->ctx);
        mtmd_input_text txt{marker.c_str(), marker.size(), false, true};
        const mtmd_bitmap * bms[] = {bitmap_->bitmap};
        TakeLastMtmdError();
        int32_t r = mtmd_tokenize(mtmd_->ctx, chunks.ptr.get(), &txt, bms, 1);
        if (r == 2) {
            std::string detail = TakeLastMtmdError();
            throw NativeError(code::kImageFailed, "image preprocessing failed" + (detail.empty() ? "" : ": " + detail));
        }
        if (r != 0) {
            throw NativeError(code::kTokenizeFailed, "mtmd_tokenize failed with code " + std::to_string(r));
        }
        const size_t width = static_cast<size_t>(mtmd_->nEmbdInp);
        for (size_t i = 0; i < chunks.size(); i++) {
            const mtmd_input_chunk * chunk = chunks[i];
            if (mtmd_input_chunk_get_type(chunk) != MTMD_INPUT_CHUNK_TYPE_IMAGE) {
                continue;
            }
            const size_t nTok = mtmd_input_chunk_get_n_tokens(chunk);
            std::lock_guard<std::mutex> lock(mtmd_->encodeMutex);
            TakeLastMtmdError();
            if (mtmd_encode_chunk(mtmd_->ctx, chunk) != 0) {
                std::string detail = TakeLastMtmdError();
                throw NativeError(code::kEncodeFailed, "image encoding failed" + (detail.empty() ? "" : ": " + detail));
            }
            const float * out = mtmd_get_output_embd(mtmd_->ctx);
            embd_.insert(embd_.end(), out, out + nTok * width);
            nTokens_ += nTok;
        }
        if (nTokens_ == 0) {
            throw NativeError(code::kImageFailed, "the bitmap produced no image tokens");
        }
        encodeMs_ = NowMs() - tStart;
    }

    void Finish() override {
        mtmd_->running--;
        bitmap_->inUse--;
    }

    Napi::Value Result(Napi::Env env) override {
        Napi::Float32Array data = Napi::Float32Array::New(env, embd_.size());
        std::memcpy(data.Data(), embd_.data(), embd_.size() * sizeof(float));
        Napi::Object o = Napi::Object::New(env);
        o.Set("nTokens", static_cast<double>(nTokens_));
        o.Set("nEmbd", mtmd_->nEmbdInp);
        o.Set("embeddings", data);
        o.Set("encodeMs", encodeMs_);
        return o;
    }

  private:
    Mtmd * mtmd_;
    Bitmap * bitmap_;
    Napi::ObjectReference mtmdRef_;
    Napi::ObjectReference bitmapRef_;
    std::vector<float> embd_;
    size_t nTokens_ = 0;
    double encodeMs_ = 0;
};

}  // namespace

// ---- Bitmap -------------------------------------------------------------------------------------

void Bitmap::Init(Napi::Env env, Napi::Object exports) {
    Napi::Function ctor = DefineClass(env, "Bitmap",
                                      {
                                          InstanceAccessor("width", &Bitmap::GetWidth, nullptr),
                                          InstanceAccessor("height", &Bitmap::GetHeight, nullptr),
                                          InstanceAccessor("id", &Bitmap::GetId, nullptr),
                                          InstanceAccessor("disposed", &Bitmap::GetDisposed, nullptr),
                                          InstanceMethod("dispose", &Bitmap::Dispose),
                                      });
    Data(env).bitmapCtor = Napi::Persistent(ctor);
    exports.Set("Bitmap", ctor);
    exports.Set("createBitmap", Napi::Function::New(env, &Bitmap::Create, "createBitmap"));
}

Bitmap::Bitmap(const Napi::CallbackInfo & info) : Napi::ObjectWrap<Bitmap>(info) {
    if (!IsInternalConstruct(info)) {
        Throw(info.Env(), code::kInvalidArgument, "Bitmap cannot be constructed directly; use createBitmap()");
    }
}

Bitmap::~Bitmap() {
    if (bitmap != nullptr) {
        mtmd_bitmap_free(bitmap);
        bitmap = nullptr;
    }
}

Napi::Value Bitmap::Create(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    int32_t w = ArgInt(info, 0, "width");
    int32_t h = ArgInt(info, 1, "height");
    if (w <= 0 || h <= 0 || w > 32768 || h > 32768) {
        Throw(env, code::kInvalidArgument, "width and height must be in [1, 32768]");
    }
    if (info.Length() < 3 || !info[2].IsTypedArray() ||
        info[2].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
        Throw(env, code::kInvalidArgument, "rgb must be a Buffer or Uint8Array of width*height*3 bytes");
    }
    Napi::Uint8Array data = info[2].As<Napi::Uint8Array>();
    const size_t expected = static_cast<size_t>(w) * static_cast<size_t>(h) * 3;
    if (data.ByteLength() != expected) {
        Throw(env, code::kInvalidArgument, "rgb has " + std::to_string(data.ByteLength()) + " bytes, expected " +
                                               std::to_string(expected) + " (width*height*3, packed RGB)");
    }
    std::string id;
    if (info.Length() > 3 && !info[3].IsUndefined() && !info[3].IsNull()) {
        if (!info[3].IsString()) {
            Throw(env, code::kInvalidArgument, "id must be a string");
        }
        id = info[3].As<Napi::String>().Utf8Value();
    } else {
        char buf[64];
        std::snprintf(buf, sizeof(buf), "rgb:%dx%d:%016llx", w, h,
                      static_cast<unsigned long long>(HashBytes(data.Data(), data.ByteLength())));
        id = buf;
    }
    mtmd_bitmap * bm = mtmd_bitmap_init(static_cast<uint32_t>(w), static_cast<uint32_t>(h), data.Data());
    if (bm == nullptr) {
        Throw(env, code::kImageFailed, "mtmd_bitmap_init failed");
    }
    if (!id.empty()) {
        mtmd_bitmap_set_id(bm, id.c_str());
    }
    Napi::Object obj = Data(env).bitmapCtor.New({InternalConstructArg(env)});
    Bitmap::Unwrap(obj)->bitmap = bm;
    return obj;
}

Bitmap * Bitmap::FromValue(Napi::Env env, const Napi::Value & v) {
    if (!v.IsObject() || !v.As<Napi::Object>().InstanceOf(Data(env).bitmapCtor.Value())) {
        Throw(env, code::kInvalidArgument, "bitmaps must be Bitmap objects from createBitmap()");
    }
    Bitmap * b = Bitmap::Unwrap(v.As<Napi::Object>());
    if (b->bitmap == nullptr) {
        Throw(env, code::kDisposed, "a bitmap has been disposed");
    }
    return b;
}

Napi::Value Bitmap::GetWidth(const Napi::CallbackInfo & info) {
    return Napi::Number::New(info.Env(), bitmap != nullptr ? mtmd_bitmap_get_nx(bitmap) : 0);
}

Napi::Value Bitmap::GetHeight(const Napi::CallbackInfo & info) {
    return Napi::Number::New(info.Env(), bitmap != nullptr ? mtmd_bitmap_get_ny(bitmap) : 0);
}

Napi::Value Bitmap::GetId(const Napi::CallbackInfo & info) {
    const char * id = bitmap != nullptr ? mtmd_bitmap_get_id(bitmap) : nullptr;
    return Napi::String::New(info.Env(), id != nullptr ? id : "");
}

Napi::Value Bitmap::Dispose(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (inUse.load() > 0) {
        Throw(env, code::kInUse, "the bitmap is in use by a running evalPrompt");
    }
    if (bitmap != nullptr) {
        mtmd_bitmap_free(bitmap);
        bitmap = nullptr;
    }
    return env.Undefined();
}

Napi::Value Bitmap::GetDisposed(const Napi::CallbackInfo & info) { return Napi::Boolean::New(info.Env(), bitmap == nullptr); }

// ---- Mtmd ---------------------------------------------------------------------------------------

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
    {
        std::lock_guard<std::mutex> lock(cacheMutex);
        cache.clear();
    }
    model.reset();
}

void Mtmd::EnsureAlive(Napi::Env env) const {
    if (ctx == nullptr) {
        Throw(env, code::kDisposed, "the mtmd context has been disposed");
    }
}

bool Mtmd::CacheGet(const std::string & id, size_t nTokens, std::vector<float> & out) {
    std::lock_guard<std::mutex> lock(cacheMutex);
    for (auto it = cache.begin(); it != cache.end(); ++it) {
        if (it->id == id && it->nTokens == nTokens) {
            out = it->embd;
            cache.splice(cache.begin(), cache, it);
            return true;
        }
    }
    return false;
}

void Mtmd::CachePut(const std::string & id, size_t nTokens, const float * embd, size_t nFloats) {
    if (cacheMaxEntries == 0) {
        return;
    }
    std::lock_guard<std::mutex> lock(cacheMutex);
    for (auto it = cache.begin(); it != cache.end(); ++it) {
        if (it->id == id) {
            cache.erase(it);
            break;
        }
    }
    cache.push_front({id, nTokens, std::vector<float>(embd, embd + nFloats)});
    while (cache.size() > cacheMaxEntries) {
        cache.pop_back();
    }
}

// initMtmd(model, mmprojPath, { nThreads, useGpu, warmup, imageMinTokens, imageMaxTokens, flashAttn, cacheEntries })
Napi::Value Mtmd::Create(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    return AsPromise(env, [&]() -> Napi::Value {
        Model * model = Model::FromValue(env, info.Length() > 0 ? info[0] : env.Undefined(), "model");
        InitArgs args;
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
        auto * worker = new EvalPromptWorker(env, this, info.This().As<Napi::Object>(), context, info[0].As<Napi::Object>(),
                                             std::move(bitmaps), std::move(refs), seqId, nPast, std::move(text), addSpecial,
                                             parseSpecial, nBatch, logitsLast);
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
    std::lock_guard<std::mutex> lock(cacheMutex);
    cache.clear();
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
