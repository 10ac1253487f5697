// generate(context, seqId, nPast, opts, onToken?) -> Promise<GenerateResult>
//
// Samples tokens from the logits left by the last evalPrompt()/generate() on the context, decoding each
// accepted token into the KV cache of `seqId`. Tokens are streamed through a ThreadSafeFunction. The
// promise settles only after every queued onToken call has run (resolved from whichever finishes last:
// the worker or the TSFN finalizer), so no token callback ever arrives after the promise resolved.
#include "generate.h"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "common.h"
#include "context.h"
#include "model.h"
#include "sampling.h"

namespace lld {

namespace {

struct TokenEvent {
    llama_token id;
    std::string text;
};

struct GenState {
    explicit GenState(Napi::Env env) : deferred(Napi::Promise::Deferred::New(env)) {}
    Napi::Promise::Deferred deferred;
    Napi::ObjectReference contextRef;
    Context * context = nullptr;
    bool workerDone = false;
    bool tsfnDone = true;
    bool settled = false;
    // outcome
    bool failed = false;
    std::string errCode;
    std::string errMessage;
    Napi::Reference<Napi::Value> callbackError;
    // Token hand-off: the worker waits until JS has run onToken for a token before computing the
    // next one, so an abort from onToken (the Stop button) takes effect before the next token.
    std::mutex deliveredMutex;
    std::condition_variable deliveredCv;
    uint64_t delivered = 0;
    std::vector<llama_token> tokens;
    std::string text;
    llama_pos nPast = 0;
    std::string stopReason;
    llama_token eogToken = LLAMA_TOKEN_NULL;
    double firstTokenMs = 0;
    double totalMs = 0;
};

void Settle(Napi::Env env, const std::shared_ptr<GenState> & st) {
    if (st->settled || !st->workerDone || !st->tsfnDone) {
        return;
    }
    st->settled = true;
    Napi::HandleScope scope(env);
    st->contextRef.Reset();
    if (!st->callbackError.IsEmpty()) {
        st->deferred.Reject(st->callbackError.Value());
        st->callbackError.Reset();
        return;
    }
    if (st->failed) {
        st->deferred.Reject(MakeError(env, st->errCode, st->errMessage).Value());
        return;
    }
    Napi::Object o = Napi::Object::New(env);
    Napi::Array toks = Napi::Array::New(env, st->tokens.size());
    for (size_t i = 0; i < st->tokens.size(); i++) {
        toks.Set(static_cast<uint32_t>(i), Napi::Number::New(env, st->tokens[i]));
    }
    o.Set("tokens", toks);
    o.Set("text", Napi::String::New(env, st->text));
    o.Set("nPast", st->nPast);
    o.Set("stopReason", st->stopReason);
    o.Set("eogToken", st->eogToken == LLAMA_TOKEN_NULL ? env.Null() : Napi::Value(Napi::Number::New(env, st->eogToken)));
    o.Set("firstTokenMs", st->firstTokenMs);
    o.Set("totalMs", st->totalMs);
    const double perSecond = st->totalMs > 0 ? static_cast<double>(st->tokens.size()) * 1000.0 / st->totalMs : 0;
    o.Set("tokensPerSecond", perSecond);
    st->deferred.Resolve(o);
}

class GenerateWorker : public Napi::AsyncWorker {
  public:
    GenerateWorker(Napi::Env env, std::shared_ptr<GenState> st, int32_t seqId, int32_t nPast, SamplingOptions opts,
                   Napi::ThreadSafeFunction tsfn, bool hasTsfn)
        : Napi::AsyncWorker(env, "llava_desk.generate"),
          st_(std::move(st)),
          seqId_(seqId),
          nPastStart_(nPast),
          opts_(opts),
          tsfn_(std::move(tsfn)),
          hasTsfn_(hasTsfn) {}

    void Execute() override {
        try {
            Run();
        } catch (const NativeError & e) {
            st_->failed = true;
            st_->errCode = e.errCode;
            st_->errMessage = e.message;
        } catch (const std::exception & e) {
            st_->failed = true;
            st_->errCode = code::kNative;
            st_->errMessage = e.what();
        }
        if (hasTsfn_) {
            tsfn_.Release();  // queued token calls still run; the finalizer settles the promise
        }
    }

    void OnOK() override {
        Napi::Env env = Env();
        st_->context->Release();
        st_->workerDone = true;
        Settle(env, st_);
    }

    void OnError(const Napi::Error &) override { OnOK(); }

  private:
    uint64_t emitted_ = 0;

    void Emit(llama_token id, std::string text) {
        if (!hasTsfn_) {
            return;
        }
        auto * ev = new TokenEvent{id, std::move(text)};
        auto st = st_;
        napi_status s = tsfn_.BlockingCall(ev, [st](Napi::Env env, Napi::Function cb, TokenEvent * data) {
            std::unique_ptr<TokenEvent> owned(data);
            auto markDelivered = [&st]() {
                std::lock_guard<std::mutex> lock(st->deliveredMutex);
                st->delivered += 1;
                st->deliveredCv.notify_all();
            };
            if (env == nullptr || cb.IsEmpty() || !st->callbackError.IsEmpty()) {
                markDelivered();
                return;
            }
            try {
                cb.Call({Napi::Number::New(env, owned->id), Napi::String::New(env, owned->text)});
            } catch (const Napi::Error & e) {
                st->callbackError = Napi::Reference<Napi::Value>::New(e.Value(), 1);
                if (st->context != nullptr) {
                    st->context->abortFlag.store(true);
                }
            }
            markDelivered();
        });
        if (s != napi_ok) {
            delete ev;
            return;
        }
        emitted_ += 1;
        std::unique_lock<std::mutex> lock(st_->deliveredMutex);
        // Bounded waits: never hang on a JS thread that is shutting down.
        while (st_->delivered < emitted_) {
            if (st_->context != nullptr && st_->context->abortFlag.load()) {
                break;
            }
            st_->deliveredCv.wait_for(lock, std::chrono::milliseconds(50));
        }
    }

    void Run() {
        const double tStart = NowMs();
        Context * c = st_->context;
        llama_context * lctx = c->ctx;
        const llama_vocab * vocab = llama_model_get_vocab(llama_get_model(lctx));
        const uint32_t nCtxSeq = llama_n_ctx_seq(lctx);
        llama_pos nPast = nPastStart_;
        st_->nPast = nPast;

        if (llama_get_logits_ith(lctx, -1) == nullptr) {
            throw NativeError(code::kNoLogits,
                              "no logits available: evaluate a prompt (ending in text, logitsLast: true) before generate()");
        }

        SamplerPtr smpl = MakeSampler(vocab, opts_);

        llama_batch batch = llama_batch_init(1, 0, 1);
        std::string pending;  // bytes of an incomplete UTF-8 sequence not yet streamed
        std::string stop = "maxTokens";
        for (int32_t i = 0; i < opts_.maxTokens; i++) {
            if (c->abortFlag.load()) {
                stop = "aborted";
                break;
            }
            const llama_token tok = llama_sampler_sample(smpl.get(), lctx, -1);
            if (i == 0) {
                st_->firstTokenMs = NowMs() - tStart;
            }
            if (opts_.stopAtEog && llama_vocab_is_eog(vocab, tok)) {
                st_->eogToken = tok;
                stop = "eog";
                break;
            }
            const std::string piece = TokenPiece(vocab, tok);
            st_->tokens.push_back(tok);
            st_->text += piece;
            pending += piece;
            const size_t ready = Utf8CompleteLength(pending);
            Emit(tok, pending.substr(0, ready));
            pending.erase(0, ready);

            if (static_cast<uint32_t>(nPast) >= nCtxSeq) {
                stop = "contextFull";
                break;
            }
            batch.n_tokens = 1;
            batch.token[0] = tok;
            batch.pos[0] = nPast;
            batch.n_seq_id[0] = 1;
            batch.seq_id[0][0] = seqId_;
            batch.logits[0] = true;
            const int32_t ret = llama_decode(lctx, batch);
            if (ret != 0) {
                llama_memory_seq_rm(llama_get_memory(lctx), seqId_, nPast, -1);
                if (ret == 2 || c->abortFlag.load()) {
                    stop = "aborted";
                    break;
                }
                if (ret == 1) {
                    stop = "contextFull";
                    break;
                }
                llama_batch_free(batch);
                throw NativeError(code::kDecodeFailed, "llama_decode failed while generating (code " + std::to_string(ret) + ")");
            }
            nPast++;
        }
        llama_batch_free(batch);
        if (!pending.empty()) {
            Emit(LLAMA_TOKEN_NULL, pending);
        }
        if (stop == "aborted" && !st_->callbackError.IsEmpty()) {
            stop = "callbackError";
        }
        st_->stopReason = stop;
        st_->nPast = nPast;
        st_->totalMs = NowMs() - tStart;
    }

    std::shared_ptr<GenState> st_;
    int32_t seqId_;
    int32_t nPastStart_;
    SamplingOptions opts_;
    Napi::ThreadSafeFunction tsfn_;
    bool hasTsfn_;
};

}  // namespace

Napi::Value Generate(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    return AsPromise(env, [&]() -> Napi::Value {
        Context * context = Context::FromValue(env, info.Length() > 0 ? info[0] : env.Undefined(), "context");
        int32_t seqId = ArgInt(info, 1, "seqId");
        context->CheckSeq(env, seqId);
        int32_t nPast = ArgInt(info, 2, "nPast");
        if (nPast < 0) {
            Throw(env, code::kInvalidArgument, "nPast must be >= 0");
        }
        Napi::Object o = OptObject(info, 3);
        SamplingOptions opts = ReadSamplingOptions(env, o);
        bool hasCb = info.Length() > 4 && info[4].IsFunction();
        if (info.Length() > 4 && !info[4].IsUndefined() && !info[4].IsNull() && !hasCb) {
            Throw(env, code::kInvalidArgument, "onToken must be a function");
        }

        context->Acquire(env);  // throws CONTEXT_BUSY; clears the abort flag
        auto st = std::make_shared<GenState>(env);
        st->context = context;
        st->contextRef = Napi::Persistent(info[0].As<Napi::Object>());
        Napi::ThreadSafeFunction tsfn;
        if (hasCb) {
            st->tsfnDone = false;
            tsfn = Napi::ThreadSafeFunction::New(env, info[4].As<Napi::Function>(), "llava_desk.onToken", 0, 1,
                                                 [st](Napi::Env fenv) {
                                                     st->tsfnDone = true;
                                                     Settle(fenv, st);
                                                 });
        }
        Napi::Promise p = st->deferred.Promise();
        auto * worker = new GenerateWorker(env, st, seqId, nPast, opts, tsfn, hasCb);
        worker->Queue();
        return p;
    });
}

}  // namespace lld
