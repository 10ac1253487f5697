#include "imaging_bench.h"

#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "common.h"
#include "mtmd-helper.h"
#include "mtmd.h"
#include "mtmd_context.h"

namespace lld {

namespace {

double NowMs() {
    using namespace std::chrono;
    return duration<double, std::milli>(steady_clock::now().time_since_epoch()).count();
}

Mtmd * MtmdArg(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject() ||
        !info[0].As<Napi::Object>().InstanceOf(Data(env).mtmdCtor.Value())) {
        Throw(env, code::kInvalidArgument, "the first argument must be an mtmd context from initMtmd()");
    }
    Mtmd * m = Mtmd::Unwrap(info[0].As<Napi::Object>());
    if (m->ctx == nullptr) {
        Throw(env, code::kDisposed, "the mtmd context has been disposed");
    }
    return m;
}

// ---- mtmdBitmapFromFile -------------------------------------------------------------------------

class BitmapFromFileWorker : public PromiseWorker {
  public:
    BitmapFromFileWorker(Napi::Env env, Mtmd * mtmd, Napi::Object mtmdObj, std::string path)
        : PromiseWorker(env, "llava_desk.mtmdBitmapFromFile"), mtmd_(mtmd), path_(std::move(path)) {
        mtmdRef_ = Napi::Persistent(mtmdObj);
    }

    ~BitmapFromFileWorker() override {
        if (bitmap_ != nullptr) {
            mtmd_bitmap_free(bitmap_);
        }
    }

  protected:
    void Run() override {
        TakeLastMtmdError();
        mtmd_helper_bitmap_wrapper w =
            mtmd_helper_bitmap_init_from_file(mtmd_->ctx, path_.c_str(), false, mtmd_helper_init_opt_default());
        if (w.video_ctx != nullptr) {
            mtmd_helper_video_free(w.video_ctx);
        }
        bitmap_ = w.bitmap;
        if (bitmap_ == nullptr) {
            std::string detail = TakeLastMtmdError();
            throw NativeError(code::kImageFailed,
                              "libmtmd could not load " + path_ + (detail.empty() ? std::string() : ": " + detail));
        }
    }

    void Finish() override { mtmd_->running--; }

    Napi::Value Result(Napi::Env env) override {
        Napi::Object obj = Data(env).bitmapCtor.New({InternalConstructArg(env)});
        Bitmap::Unwrap(obj)->bitmap = bitmap_;
        bitmap_ = nullptr;
        return obj;
    }

  private:
    Mtmd * mtmd_;
    Napi::ObjectReference mtmdRef_;
    std::string path_;
    mtmd_bitmap * bitmap_ = nullptr;
};

Napi::Value BitmapFromFile(const Napi::CallbackInfo & info) {
    return AsPromise(info.Env(), [&]() -> Napi::Value {
        Mtmd * m = MtmdArg(info);
        std::string path = ArgString(info, 1, "path");
        m->running++;
        auto * worker = new BitmapFromFileWorker(info.Env(), m, info[0].As<Napi::Object>(), std::move(path));
        Napi::Promise p = worker->Promise();
        worker->Queue();
        return p;
    });
}

// ---- mtmdTokenize -------------------------------------------------------------------------------

struct TokenizeChunk {
    const char * type;
    size_t nTokens;
};

class TokenizeWorker : public PromiseWorker {
  public:
    TokenizeWorker(Napi::Env env, Mtmd * mtmd, Napi::Object mtmdObj, std::vector<Bitmap *> bitmaps,
                   std::vector<Napi::ObjectReference> refs, std::string text, bool addSpecial, bool parseSpecial)
        : PromiseWorker(env, "llava_desk.mtmdTokenize"),
          mtmd_(mtmd),
          bitmaps_(std::move(bitmaps)),
          bitmapRefs_(std::move(refs)),
          text_(std::move(text)),
          addSpecial_(addSpecial),
          parseSpecial_(parseSpecial) {
        mtmdRef_ = Napi::Persistent(mtmdObj);
    }

  protected:
    void Run() override {
        const double start = NowMs();
        std::vector<const mtmd_bitmap *> raw;
        raw.reserve(bitmaps_.size());
        for (Bitmap * b : bitmaps_) {
            raw.push_back(b->bitmap);
        }
        mtmd::input_chunks chunks(mtmd_input_chunks_init());
        mtmd_input_text input{text_.c_str(), text_.size(), addSpecial_, parseSpecial_};
        int32_t res;
        {
            std::lock_guard<std::mutex> lock(mtmd_->encodeMutex);
            TakeLastMtmdError();
            res = mtmd_tokenize(mtmd_->ctx, chunks.ptr.get(), &input, raw.data(), raw.size());
        }
        if (res != 0) {
            std::string detail = TakeLastMtmdError();
            throw NativeError(res == 2 ? code::kImageFailed : code::kTokenizeFailed,
                              "mtmd_tokenize failed (" + std::to_string(res) + ")" +
                                  (detail.empty() ? std::string() : ": " + detail));
        }
        for (size_t i = 0; i < chunks.size(); i++) {
            const mtmd_input_chunk * chunk = chunks[i];
            const size_t n = mtmd_input_chunk_get_n_tokens(chunk);
            switch (mtmd_input_chunk_get_type(chunk)) {
                case MTMD_INPUT_CHUNK_TYPE_TEXT:
                    chunks_.push_back({"text", n});
                    textTokens_ += n;
                    break;
                case MTMD_INPUT_CHUNK_TYPE_IMAGE:
                    chunks_.push_back({"image", n});
                    imageTokens_ += n;
                    break;
                default:
                    chunks_.push_back({"audio", n});
                    break;
            }
        }
        tokenizeMs_ = NowMs() - start;
    }

    void Finish() override {
        mtmd_->running--;
        for (Bitmap * b : bitmaps_) {
            b->inUse--;
        }
    }

    Napi::Value Result(Napi::Env env) override {
        Napi::Object o = Napi::Object::New(env);
        Napi::Array list = Napi::Array::New(env, chunks_.size());
        for (size_t i = 0; i < chunks_.size(); i++) {
            Napi::Object c = Napi::Object::New(env);
            c.Set("type", chunks_[i].type);
            c.Set("nTokens", static_cast<double>(chunks_[i].nTokens));
            list.Set(static_cast<uint32_t>(i), c);
        }
        o.Set("chunks", list);
        o.Set("textTokens", static_cast<double>(textTokens_));
        o.Set("imageTokens", static_cast<double>(imageTokens_));
        o.Set("tokenizeMs", tokenizeMs_);
        return o;
    }

  private:
    Mtmd * mtmd_;
    Napi::ObjectReference mtmdRef_;
    std::vector<Bitmap *> bitmaps_;
    std::vector<Napi::ObjectReference> bitmapRefs_;
    std::string text_;
    bool addSpecial_;
    bool parseSpecial_;
    std::vector<TokenizeChunk> chunks_;
    size_t textTokens_ = 0;
    size_t imageTokens_ = 0;
    double tokenizeMs_ = 0;
};

Napi::Value Tokenize(const Napi::CallbackInfo & info) {
    return AsPromise(info.Env(), [&]() -> Napi::Value {
        Napi::Env env = info.Env();
        Mtmd * m = MtmdArg(info);
        std::string text = ArgString(info, 1, "text");
        if (info.Length() < 3 || !info[2].IsArray()) {
            Throw(env, code::kInvalidArgument, "bitmaps must be an array of Bitmap objects");
        }
        Napi::Array list = info[2].As<Napi::Array>();
        std::vector<Bitmap *> bitmaps;
        std::vector<Napi::ObjectReference> refs;
        for (uint32_t i = 0; i < list.Length(); i++) {
            Napi::Value v = list.Get(i);
            bitmaps.push_back(Bitmap::FromValue(env, v));
            refs.push_back(Napi::Persistent(v.As<Napi::Object>()));
        }
        Napi::Object opts = OptObject(info, 3);
        bool addSpecial = OptBool(opts, "addSpecial", true);
        bool parseSpecial = OptBool(opts, "parseSpecial", true);
        m->running++;
        for (Bitmap * b : bitmaps) {
            b->inUse++;
        }
        auto * worker = new TokenizeWorker(env, m, info[0].As<Napi::Object>(), std::move(bitmaps), std::move(refs),
                                           std::move(text), addSpecial, parseSpecial);
        Napi::Promise p = worker->Promise();
        worker->Queue();
        return p;
    });
}

}  // namespace

void RegisterImagingBench(Napi::Env env, Napi::Object exports) {
    exports.Set("mtmdBitmapFromFile", Napi::Function::New(env, &BitmapFromFile, "mtmdBitmapFromFile"));
    exports.Set("mtmdTokenize", Napi::Function::New(env, &Tokenize, "mtmdTokenize"));
}

}  // namespace lld
