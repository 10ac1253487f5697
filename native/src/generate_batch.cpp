// generateMany(context, requests, onTokens?) -> Promise<GenerateResult[]>
// readLogits(context) -> Float32Array
//
// Parallel decoding: every step puts one token of each still-running sequence into ONE llama_batch
// and decodes it with one llama_decode, so N sequences cost about one memory pass over the weights
// per step instead of N. Each request carries the logits its prompt evaluation left (readLogits()
// right after that sequence's evalPrompt), because the next evaluation on the context overwrites
// them. Tokens of a step reach JS in one onTokens call; the worker waits until it has run (as
// generate() does), so an abort from the callback takes effect before the next step. The promise
// settles only after every queued callback has run.
#include "generate_batch.h"

#include <algorithm>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common.h"
#include "context.h"
#include "model.h"
#include "sampling.h"
#include "token_stream.h"

namespace lld {

namespace {

struct SeqRun : Generation {
    int32_t seqId = 0;
    SamplingOptions opts;
    std::vector<float> logits;
    SamplerPtr smpl{nullptr, &llama_sampler_free};
    std::string pending;  // bytes of an incomplete UTF-8 sequence not yet streamed
    bool active = true;
    int32_t batchIndex = -1;
};

struct TokenOut {
    uint32_t index;
    llama_token id;
    std::string text;
};

using StepTokens = std::vector<TokenOut>;

std::vector<napi_value> StepArgs(Napi::Env env, const StepTokens & tokens) {
    Napi::Array events = Napi::Array::New(env, tokens.size());
    for (size_t i = 0; i < tokens.size(); i++) {
        Napi::Object e = Napi::Object::New(env);
        e.Set("index", tokens[i].index);
        e.Set("token", tokens[i].id);
        e.Set("text", Napi::String::New(env, tokens[i].text));
        events.Set(static_cast<uint32_t>(i), e);
    }
    return {events};
}

struct BatchState : StreamState {
    using StreamState::StreamState;
    std::vector<SeqRun> seqs;

    Napi::Value Result(Napi::Env env) override {
        Napi::Array out = Napi::Array::New(env, seqs.size());
        for (size_t i = 0; i < seqs.size(); i++) {
            out.Set(static_cast<uint32_t>(i), GenerationObject(env, seqs[i]));
        }
        return out;
    }
};

class GenerateManyWorker : public StreamWorker {
  public:
    GenerateManyWorker(Napi::Env env, std::shared_ptr<BatchState> st, Napi::ThreadSafeFunction tsfn)
        : StreamWorker(env, "llava_desk.generateMany", st, std::move(tsfn)), batch_(std::move(st)) {}

  private:
    void Emit(StepTokens && out) {
        if (!out.empty()) {
            Deliver(std::make_unique<StepTokens>(std::move(out)), &StepArgs);
        }
    }

    void Stop(SeqRun & s, const char * reason, double tStart) {
        s.active = false;
        s.stopReason = reason;
        s.totalMs = NowMs() - tStart;
    }

    void Run() override {
        const double tStart = NowMs();
        llama_context * lctx = batch_->context->ctx;
        const llama_vocab * vocab = llama_model_get_vocab(llama_get_model(lctx));
        const uint32_t nCtxSeq = llama_n_ctx_seq(lctx);
        auto & seqs = batch_->seqs;
        for (SeqRun & s : seqs) {
            s.smpl = MakeSampler(vocab, s.opts);
        }
        std::unique_ptr<llama_batch, void (*)(llama_batch *)> batch(new llama_batch(llama_batch_init(
                                                                         static_cast<int32_t>(seqs.size()), 0, 1)),
                                                                     [](llama_batch * b) {
                                                                         llama_batch_free(*b);
                                                                         delete b;
                                                                     });
        for (int32_t step = 0;; step++) {
            if (Aborted()) {
                for (SeqRun & s : seqs) {
                    if (s.active) {
                        Stop(s, "aborted", tStart);
                    }
                }
                break;
            }
            StepTokens out;
            batch->n_tokens = 0;
            for (size_t i = 0; i < seqs.size(); i++) {
                SeqRun & s = seqs[i];
                if (!s.active) {
                    continue;
                }
                if (static_cast<int32_t>(s.tokens.size()) >= s.opts.maxTokens) {
                    Stop(s, "maxTokens", tStart);
                    continue;
                }
                const llama_token tok =
                    step == 0 ? SampleFromLogits(s.smpl.get(), s.logits) : llama_sampler_sample(s.smpl.get(), lctx, s.batchIndex);
                if (s.tokens.empty()) {
                    s.firstTokenMs = NowMs() - tStart;
                }
                if (s.opts.stopAtEog && llama_vocab_is_eog(vocab, tok)) {
                    s.eogToken = tok;
                    Stop(s, "eog", tStart);
                    continue;
                }
                const std::string piece = TokenPiece(vocab, tok);
                s.tokens.push_back(tok);
                s.text += piece;
                s.pending += piece;
                const size_t ready = Utf8CompleteLength(s.pending);
                out.push_back({static_cast<uint32_t>(i), tok, s.pending.substr(0, ready)});
                s.pending.erase(0, ready);
                if (static_cast<uint32_t>(s.nPast) >= nCtxSeq) {
                    Stop(s, "contextFull", tStart);
                    continue;
                }
                const int32_t k = batch->n_tokens++;
                batch->token[k] = tok;
                batch->pos[k] = s.nPast;
                batch->n_seq_id[k] = 1;
                batch->seq_id[k][0] = s.seqId;
                batch->logits[k] = true;
                s.batchIndex = k;
            }
            std::vector<SeqRun *> inBatch;
            for (SeqRun & s : seqs) {
                if (s.active) {
                    inBatch.push_back(&s);
                }
            }
            Emit(std::move(out));
            if (inBatch.empty()) {
                break;
            }
            const int32_t ret = llama_decode(lctx, *batch);
            if (ret != 0) {
                for (SeqRun * s : inBatch) {
                    llama_memory_seq_rm(llama_get_memory(lctx), s->seqId, s->nPast, -1);
                }
                if (ret == 2 || Aborted()) {
                    for (SeqRun * s : inBatch) {
                        Stop(*s, "aborted", tStart);
                    }
                    break;
                }
                if (ret == 1) {
                    for (SeqRun * s : inBatch) {
                        Stop(*s, "contextFull", tStart);
                    }
                    break;
                }
                throw NativeError(code::kDecodeFailed, "llama_decode failed while generating (code " + std::to_string(ret) + ")");
            }
            for (SeqRun * s : inBatch) {
                s->nPast++;
            }
        }
        StepTokens tails;
        for (size_t i = 0; i < seqs.size(); i++) {
            if (!seqs[i].pending.empty()) {
                tails.push_back({static_cast<uint32_t>(i), LLAMA_TOKEN_NULL, seqs[i].pending});
                seqs[i].pending.clear();
            }
            if (seqs[i].stopReason == "aborted" && !batch_->callbackError.IsEmpty()) {
                seqs[i].stopReason = "callbackError";
            }
        }
        Emit(std::move(tails));
    }

    std::shared_ptr<BatchState> batch_;
};

}  // namespace

Napi::Value GenerateMany(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    return AsPromise(env, [&]() -> Napi::Value {
        Context * context = Context::FromValue(env, info.Length() > 0 ? info[0] : env.Undefined(), "context");
        if (info.Length() < 2 || !info[1].IsArray()) {
            Throw(env, code::kInvalidArgument, "requests must be an array");
        }
        Napi::Array reqs = info[1].As<Napi::Array>();
        if (reqs.Length() == 0 || reqs.Length() > llama_n_seq_max(context->ctx)) {
            Throw(env, code::kInvalidArgument,
                  "requests must hold 1 to " + std::to_string(llama_n_seq_max(context->ctx)) + " sequences");
        }
        const llama_vocab * vocab = llama_model_get_vocab(llama_get_model(context->ctx));
        const size_t nVocab = static_cast<size_t>(llama_vocab_n_tokens(vocab));
        auto st = std::make_shared<BatchState>(env);
        std::set<int32_t> seen;
        for (uint32_t i = 0; i < reqs.Length(); i++) {
            Napi::Value v = reqs.Get(i);
            if (!v.IsObject()) {
                Throw(env, code::kInvalidArgument, "each request must be an object");
            }
            Napi::Object r = v.As<Napi::Object>();
            SeqRun s;
            s.seqId = OptInt(r, "seqId", -1);
            context->CheckSeq(env, s.seqId);
            if (!seen.insert(s.seqId).second) {
                Throw(env, code::kInvalidArgument, "seqId " + std::to_string(s.seqId) + " appears twice");
            }
            s.nPast = OptInt(r, "nPast", -1);
            if (s.nPast < 0) {
                Throw(env, code::kInvalidArgument, "nPast must be >= 0");
            }
            Napi::Value lv = r.Get("logits");
            if (!lv.IsTypedArray() || lv.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array ||
                lv.As<Napi::Float32Array>().ElementLength() != nVocab) {
                Throw(env, code::kInvalidArgument,
                      "logits must be a Float32Array of " + std::to_string(nVocab) + " values (readLogits())");
            }
            Napi::Float32Array la = lv.As<Napi::Float32Array>();
            s.logits.assign(la.Data(), la.Data() + la.ElementLength());
            Napi::Value ov = r.Get("options");
            s.opts = ReadSamplingOptions(env, ov.IsObject() ? ov.As<Napi::Object>() : Napi::Object::New(env));
            st->seqs.push_back(std::move(s));
        }
        const bool hasCb = info.Length() > 2 && info[2].IsFunction();
        if (info.Length() > 2 && !info[2].IsUndefined() && !info[2].IsNull() && !hasCb) {
            Throw(env, code::kInvalidArgument, "onTokens must be a function");
        }

        Napi::ThreadSafeFunction tsfn =
            StartStream(env, st, info[0], context, hasCb ? info[2] : env.Undefined(), "llava_desk.onTokens");
        Napi::Promise p = st->deferred.Promise();
        auto * worker = new GenerateManyWorker(env, st, std::move(tsfn));
        worker->Queue();
        return p;
    });
}

Napi::Value ReadLogits(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    Context * context = Context::FromValue(env, info.Length() > 0 ? info[0] : env.Undefined(), "context");
    if (context->busy.load()) {
        Throw(env, code::kContextBusy, "cannot read logits while evalPrompt/generate is running");
    }
    const float * logits = llama_get_logits_ith(context->ctx, -1);
    if (logits == nullptr) {
        Throw(env, code::kNoLogits, "no logits available: evaluate a prompt ending in text with logitsLast: true first");
    }
    const size_t n = static_cast<size_t>(llama_vocab_n_tokens(llama_model_get_vocab(llama_get_model(context->ctx))));
    Napi::Float32Array out = Napi::Float32Array::New(env, n);
    std::copy(logits, logits + n, out.Data());
    return out;
}

void RegisterGenerateBatch(Napi::Env env, Napi::Object exports) {
    exports.Set("generateMany", Napi::Function::New(env, &GenerateMany, "generateMany"));
    exports.Set("readLogits", Napi::Function::New(env, &ReadLogits, "readLogits"));
}

}  // namespace lld
