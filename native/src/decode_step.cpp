// createSampler(model, options) -> NativeSampler
// decodeStep(context, entries) -> Promise<StepOutcome[]>
//
// The stepping form of generateMany(): the caller (the engine's scheduler) owns the loop, so
// sequences join and leave between steps, and a prompt can be evaluated for a new sequence while
// others are half-way through their answers. Each step samples one token per entry from the
// logits the entry carries (saved after its prompt or the previous step, because any evaluation
// on the context overwrites the context's own), decodes all sampled tokens in one llama_decode and
// hands back each entry's token, its bytes (UTF-8 may be split between tokens) and its new logits.
#include "decode_step.h"

#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "common.h"
#include "context.h"
#include "model.h"
#include "sampling.h"

namespace lld {

namespace {

// Tags a sampler handle so that decodeStep refuses any other external value.
const napi_type_tag kSamplerTag = {0x6c6c6176612d6465ULL, 0x736b2d73616d706cULL};

struct SamplerBox {
    SamplerPtr smpl{nullptr, &llama_sampler_free};
};

struct StepEntry {
    int32_t seqId = 0;
    int32_t nPast = 0;
    bool stopAtEog = true;
    std::vector<float> logits;
    SamplerBox * sampler = nullptr;
    // Outcome
    llama_token token = LLAMA_TOKEN_NULL;
    std::string piece;
    std::string stop;  // "" (decoded, continues), "eog", "contextFull", "aborted"
    int32_t batchIndex = -1;
};

SamplerBox * SamplerFromValue(Napi::Env env, const Napi::Value & v) {
    bool tagged = false;
    if (v.IsExternal()) {
        napi_check_object_type_tag(env, v, &kSamplerTag, &tagged);
    }
    if (!tagged) {
        Throw(env, code::kInvalidArgument, "sampler must come from createSampler()");
    }
    return v.As<Napi::External<SamplerBox>>().Data();
}

class DecodeStepWorker : public PromiseWorker {
  public:
    DecodeStepWorker(Napi::Env env, Context * context, Napi::Object contextObj, std::vector<StepEntry> entries,
                     std::vector<Napi::Reference<Napi::Value>> samplerRefs)
        : PromiseWorker(env, "llava_desk.decodeStep"),
          context_(context),
          entries_(std::move(entries)),
          samplerRefs_(std::move(samplerRefs)) {
        contextRef_ = Napi::Persistent(contextObj);
    }

  protected:
    void Run() override {
        llama_context * lctx = context_->ctx;
        const llama_vocab * vocab = llama_model_get_vocab(llama_get_model(lctx));
        const uint32_t nCtxSeq = llama_n_ctx_seq(lctx);
        llama_batch batch = llama_batch_init(static_cast<int32_t>(entries_.size()), 0, 1);
        std::vector<StepEntry *> decoded;
        try {
            for (StepEntry & e : entries_) {
                e.token = SampleFromLogits(e.sampler->smpl.get(), e.logits);
                e.logits.clear();
                if (e.stopAtEog && llama_vocab_is_eog(vocab, e.token)) {
                    e.stop = "eog";
                    continue;
                }
                e.piece = TokenPiece(vocab, e.token);
                if (static_cast<uint32_t>(e.nPast) >= nCtxSeq) {
                    e.stop = "contextFull";
                    continue;
                }
                const int32_t k = batch.n_tokens++;
                batch.token[k] = e.token;
                batch.pos[k] = e.nPast;
                batch.n_seq_id[k] = 1;
                batch.seq_id[k][0] = e.seqId;
                batch.logits[k] = true;
                e.batchIndex = k;
                decoded.push_back(&e);
            }
            if (!decoded.empty()) {
                const int32_t ret = llama_decode(lctx, batch);
                if (ret != 0) {
                    for (StepEntry * e : decoded) {
                        llama_memory_seq_rm(llama_get_memory(lctx), e->seqId, e->nPast, -1);
                        e->stop = (ret == 2 || context_->abortFlag.load()) ? "aborted" : "contextFull";
                    }
                    if (ret != 1 && ret != 2 && !context_->abortFlag.load()) {
                        throw NativeError(code::kDecodeFailed,
                                          "llama_decode failed while generating (code " + std::to_string(ret) + ")");
                    }
                } else {
                    const size_t nVocab = static_cast<size_t>(llama_vocab_n_tokens(vocab));
                    for (StepEntry * e : decoded) {
                        const float * row = llama_get_logits_ith(lctx, e->batchIndex);
                        if (row == nullptr) {
                            throw NativeError(code::kNoLogits, "the decode step left no logits for a sequence");
                        }
                        e->logits.assign(row, row + nVocab);
                    }
                }
            }
        } catch (...) {
            llama_batch_free(batch);
            throw;
        }
        llama_batch_free(batch);
    }

    void Finish() override { context_->Release(); }

    Napi::Value Result(Napi::Env env) override {
        Napi::Array out = Napi::Array::New(env, entries_.size());
        for (size_t i = 0; i < entries_.size(); i++) {
            const StepEntry & e = entries_[i];
            Napi::Object o = Napi::Object::New(env);
            o.Set("token", e.token);
            o.Set("piece", Napi::Buffer<char>::Copy(env, e.piece.data(), e.piece.size()));
            if (e.stop.empty()) {
                o.Set("stop", env.Null());
                Napi::Float32Array logits = Napi::Float32Array::New(env, e.logits.size());
                std::memcpy(logits.Data(), e.logits.data(), e.logits.size() * sizeof(float));
                o.Set("logits", logits);
            } else {
                o.Set("stop", e.stop);
                o.Set("logits", env.Null());
            }
            out.Set(static_cast<uint32_t>(i), o);
        }
        return out;
    }

  private:
    Context * context_;
    Napi::ObjectReference contextRef_;
    std::vector<StepEntry> entries_;
    std::vector<Napi::Reference<Napi::Value>> samplerRefs_;
};

}  // namespace

Napi::Value CreateSampler(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    Model * model = Model::FromValue(env, info.Length() > 0 ? info[0] : env.Undefined(), "model");
    model->EnsureAlive(env);
    Napi::Object o = OptObject(info, 1);
    const SamplingOptions opts = ReadSamplingOptions(env, o);
    auto * box = new SamplerBox();
    box->smpl = MakeSampler(model->vocab, opts);
    Napi::External<SamplerBox> handle =
        Napi::External<SamplerBox>::New(env, box, [](Napi::Env, SamplerBox * b) { delete b; });
    napi_type_tag_object(env, handle, &kSamplerTag);
    return handle;
}

Napi::Value DecodeStep(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    return AsPromise(env, [&]() -> Napi::Value {
        Context * context = Context::FromValue(env, info.Length() > 0 ? info[0] : env.Undefined(), "context");
        if (info.Length() < 2 || !info[1].IsArray()) {
            Throw(env, code::kInvalidArgument, "entries must be an array");
        }
        Napi::Array list = info[1].As<Napi::Array>();
        if (list.Length() == 0 || list.Length() > llama_n_seq_max(context->ctx)) {
            Throw(env, code::kInvalidArgument,
                  "entries must hold 1 to " + std::to_string(llama_n_seq_max(context->ctx)) + " sequences");
        }
        const size_t nVocab =
            static_cast<size_t>(llama_vocab_n_tokens(llama_model_get_vocab(llama_get_model(context->ctx))));
        std::vector<StepEntry> entries;
        std::vector<Napi::Reference<Napi::Value>> samplerRefs;
        std::set<int32_t> seen;
        std::set<SamplerBox *> samplers;
        for (uint32_t i = 0; i < list.Length(); i++) {
            Napi::Value v = list.Get(i);
            if (!v.IsObject()) {
                Throw(env, code::kInvalidArgument, "each entry must be an object");
            }
            Napi::Object r = v.As<Napi::Object>();
            StepEntry e;
            e.seqId = OptInt(r, "seqId", -1);
            context->CheckSeq(env, e.seqId);
            if (!seen.insert(e.seqId).second) {
                Throw(env, code::kInvalidArgument, "seqId " + std::to_string(e.seqId) + " appears twice");
            }
            e.nPast = OptInt(r, "nPast", -1);
            if (e.nPast < 0) {
                Throw(env, code::kInvalidArgument, "nPast must be >= 0");
            }
            e.stopAtEog = OptBool(r, "stopAtEog", true);
            Napi::Value lv = r.Get("logits");
            if (!lv.IsTypedArray() || lv.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array ||
                lv.As<Napi::Float32Array>().ElementLength() != nVocab) {
                Throw(env, code::kInvalidArgument,
                      "logits must be a Float32Array of " + std::to_string(nVocab) + " values");
            }
            Napi::Float32Array la = lv.As<Napi::Float32Array>();
            e.logits.assign(la.Data(), la.Data() + la.ElementLength());
            Napi::Value sv = r.Get("sampler");
            e.sampler = SamplerFromValue(env, sv);
            if (!samplers.insert(e.sampler).second) {
                Throw(env, code::kInvalidArgument, "a sampler appears twice in one step");
            }
            samplerRefs.push_back(Napi::Reference<Napi::Value>::New(sv, 1));
            entries.push_back(std::move(e));
        }
        context->Acquire(env);
        auto * worker = new DecodeStepWorker(env, context, info[0].As<Napi::Object>(), std::move(entries),
                                             std::move(samplerRefs));
        Napi::Promise p = worker->Promise();
        worker->Queue();
        return p;
    });
}

void RegisterDecodeStep(Napi::Env env, Napi::Object exports) {
    exports.Set("createSampler", Napi::Function::New(env, &CreateSampler, "createSampler"));
    exports.Set("decodeStep", Napi::Function::New(env, &DecodeStep, "decodeStep"));
}

}  // namespace lld
