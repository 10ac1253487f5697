// generate(context, seqId, nPast, opts, onToken?) -> Promise<GenerateResult>
//
// Samples tokens from the logits left by the last evalPrompt()/generate() on the context, decoding each
// accepted token into the KV cache of `seqId`. Tokens are streamed through a ThreadSafeFunction. The
// promise settles only after every queued onToken call has run (resolved from whichever finishes last:
// the worker or the TSFN finalizer), so no token callback ever arrives after the promise resolved.
#include "generate.h"

#include <memory>
#include <string>
#include <vector>

#include "common.h"
#include "context.h"
#include "model.h"
#include "sampling.h"
#include "token_stream.h"

namespace lld {

namespace {

struct TokenEvent {
    llama_token id;
    std::string text;
};

std::vector<napi_value> TokenArgs(Napi::Env env, const TokenEvent & ev) {
    return {Napi::Number::New(env, ev.id), Napi::String::New(env, ev.text)};
}

struct GenState : StreamState, Generation {
    using StreamState::StreamState;
    Napi::Value Result(Napi::Env env) override { return GenerationObject(env, *this); }
};

class GenerateWorker : public StreamWorker {
  public:
    GenerateWorker(Napi::Env env, std::shared_ptr<GenState> st, int32_t seqId, int32_t nPast, SamplingOptions opts,
                   Napi::ThreadSafeFunction tsfn)
        : StreamWorker(env, "llava_desk.generate", st, std::move(tsfn)),
          gen_(std::move(st)),
          seqId_(seqId),
          nPastStart_(nPast),
          opts_(opts) {}

  private:
    void Emit(llama_token id, std::string text) {
        Deliver(std::make_unique<TokenEvent>(TokenEvent{id, std::move(text)}), &TokenArgs);
    }

    void Run() override {
        const double tStart = NowMs();
        Context * c = gen_->context;
        llama_context * lctx = c->ctx;
        const llama_vocab * vocab = llama_model_get_vocab(llama_get_model(lctx));
        const uint32_t nCtxSeq = llama_n_ctx_seq(lctx);
        llama_pos nPast = nPastStart_;
        gen_->nPast = nPast;

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
                gen_->firstTokenMs = NowMs() - tStart;
            }
            if (opts_.stopAtEog && llama_vocab_is_eog(vocab, tok)) {
                gen_->eogToken = tok;
                stop = "eog";
                break;
            }
            const std::string piece = TokenPiece(vocab, tok);
            gen_->tokens.push_back(tok);
            gen_->text += piece;
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
        if (stop == "aborted" && !gen_->callbackError.IsEmpty()) {
            stop = "callbackError";
        }
        gen_->stopReason = stop;
        gen_->nPast = nPast;
        gen_->totalMs = NowMs() - tStart;
    }

    std::shared_ptr<GenState> gen_;
    int32_t seqId_;
    int32_t nPastStart_;
    SamplingOptions opts_;
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

        auto st = std::make_shared<GenState>(env);
        Napi::ThreadSafeFunction tsfn =
            StartStream(env, st, info[0], context, hasCb ? info[4] : env.Undefined(), "llava_desk.onToken");
        Napi::Promise p = st->deferred.Promise();
        auto * worker = new GenerateWorker(env, st, seqId, nPast, opts, std::move(tsfn));
        worker->Queue();
        return p;
    });
}

}  // namespace lld
