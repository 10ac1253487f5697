#include "sampling.h"

#include <chrono>
#include <cmath>
#include <vector>

#include "common.h"

namespace lld {

double NowMs() {
    using namespace std::chrono;
    return duration<double, std::milli>(steady_clock::now().time_since_epoch()).count();
}

std::string TokenPiece(const llama_vocab * vocab, llama_token token) {
    std::string out(32, '\0');
    int32_t n = llama_token_to_piece(vocab, token, out.data(), static_cast<int32_t>(out.size()), 0, true);
    if (n < 0) {
        out.resize(static_cast<size_t>(-n));
        n = llama_token_to_piece(vocab, token, out.data(), static_cast<int32_t>(out.size()), 0, true);
    }
    out.resize(n < 0 ? 0 : static_cast<size_t>(n));
    return out;
}

size_t Utf8CompleteLength(const std::string & s) {
    const size_t n = s.size();
    size_t back = 0;
    while (back < 4 && back < n) {
        const unsigned char c = static_cast<unsigned char>(s[n - 1 - back]);
        if ((c & 0xC0) != 0x80) {
            size_t need = 1;
            if ((c & 0xE0) == 0xC0) {
                need = 2;
            } else if ((c & 0xF0) == 0xE0) {
                need = 3;
            } else if ((c & 0xF8) == 0xF0) {
                need = 4;
            }
            return back + 1 < need ? n - 1 - back : n;
        }
        back++;
    }
    return n;
}

SamplingOptions ReadSamplingOptions(Napi::Env env, const Napi::Object & o) {
    SamplingOptions opts;
    opts.maxTokens = OptInt(o, "maxTokens", opts.maxTokens);
    opts.temperature = static_cast<float>(OptNumber(o, "temperature", opts.temperature));
    opts.topK = OptInt(o, "topK", opts.topK);
    opts.topP = static_cast<float>(OptNumber(o, "topP", opts.topP));
    opts.minP = static_cast<float>(OptNumber(o, "minP", opts.minP));
    opts.repeatPenalty = static_cast<float>(OptNumber(o, "repeatPenalty", opts.repeatPenalty));
    opts.repeatLastN = OptInt(o, "repeatLastN", opts.repeatLastN);
    opts.seed = OptUint(o, "seed", opts.seed);
    opts.stopAtEog = OptBool(o, "stopAtEog", opts.stopAtEog);
    if (opts.maxTokens < 0 || opts.temperature < 0 || opts.topP <= 0 || opts.topP > 1 || opts.minP < 0 || opts.minP > 1 ||
        opts.repeatPenalty <= 0) {
        Throw(env, code::kInvalidArgument,
              "invalid sampling options (maxTokens >= 0, temperature >= 0, 0 < topP <= 1, 0 <= minP <= 1, repeatPenalty > 0)");
    }
    return opts;
}

SamplerPtr MakeSampler(const llama_vocab * vocab, const SamplingOptions & o) {
    llama_sampler_chain_params sp = llama_sampler_chain_default_params();
    sp.no_perf = true;
    SamplerPtr smpl(llama_sampler_chain_init(sp), &llama_sampler_free);
    int32_t nSuppress = 0;
    const llama_token * suppress = llama_vocab_get_suppress_tokens(vocab, &nSuppress);
    if (nSuppress > 0 && suppress != nullptr) {
        std::vector<llama_logit_bias> bias;
        for (int32_t i = 0; i < nSuppress; i++) {
            bias.push_back({suppress[i], -INFINITY});
        }
        llama_sampler_chain_add(smpl.get(), llama_sampler_init_logit_bias(llama_vocab_n_tokens(vocab),
                                                                          static_cast<int32_t>(bias.size()), bias.data()));
    }
    if (o.repeatPenalty != 1.0f) {
        llama_sampler_chain_add(smpl.get(), llama_sampler_init_penalties(llama_vocab_n_tokens(vocab), o.repeatLastN,
                                                                         o.repeatPenalty, 0.0f, 0.0f));
    }
    if (o.temperature <= 0.0f) {
        llama_sampler_chain_add(smpl.get(), llama_sampler_init_greedy());
        return smpl;
    }
    if (o.topK > 0) {
        llama_sampler_chain_add(smpl.get(), llama_sampler_init_top_k(o.topK));
    }
    if (o.topP < 1.0f) {
        llama_sampler_chain_add(smpl.get(), llama_sampler_init_top_p(o.topP, 1));
    }
    if (o.minP > 0.0f) {
        llama_sampler_chain_add(smpl.get(), llama_sampler_init_min_p(o.minP, 1));
    }
    llama_sampler_chain_add(smpl.get(), llama_sampler_init_temp(o.temperature));
    llama_sampler_chain_add(smpl.get(), llama_sampler_init_dist(o.seed));
    return smpl;
}

llama_token SampleFromLogits(llama_sampler * smpl, const std::vector<float> & logits) {
    std::vector<llama_token_data> cur(logits.size());
    for (size_t i = 0; i < logits.size(); i++) {
        cur[i] = llama_token_data{static_cast<llama_token>(i), logits[i], 0.0f};
    }
    llama_token_data_array arr{cur.data(), cur.size(), -1, false};
    llama_sampler_apply(smpl, &arr);
    if (arr.selected < 0 || static_cast<size_t>(arr.selected) >= arr.size) {
        throw NativeError(code::kNative, "the sampler selected no token");
    }
    const llama_token tok = arr.data[arr.selected].id;
    llama_sampler_accept(smpl, tok);
    return tok;
}

}  // namespace lld
