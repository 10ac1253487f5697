#pragma once
// Pieces both token generators share: one sampler chain, so a sequence samples the same alone
// (generate) or among others (generateMany), and the option reading and text helpers around it.

#include "llama.h"
#include <napi.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace lld {

double NowMs();

/** The text of one token, special tokens rendered. */
std::string TokenPiece(const llama_vocab * vocab, llama_token token);

/** Length of the longest prefix of `s` that does not end inside an incomplete UTF-8 sequence. */
size_t Utf8CompleteLength(const std::string & s);

struct SamplingOptions {
    int32_t maxTokens = 256;
    float temperature = 0.8f;
    int32_t topK = 40;
    float topP = 0.95f;
    float minP = 0.05f;
    float repeatPenalty = 1.0f;
    int32_t repeatLastN = 64;
    uint32_t seed = LLAMA_DEFAULT_SEED;
    bool stopAtEog = true;
};

/** Reads and checks `{maxTokens, temperature, topK, topP, minP, repeatPenalty, repeatLastN, seed, stopAtEog}`. */
SamplingOptions ReadSamplingOptions(Napi::Env env, const Napi::Object & o);

using SamplerPtr = std::unique_ptr<llama_sampler, decltype(&llama_sampler_free)>;

/** Suppressed tokens, repeat penalty, then greedy (temperature 0) or top-k/top-p/min-p/temperature/dist. */
SamplerPtr MakeSampler(const llama_vocab * vocab, const SamplingOptions & o);

/** llama_sampler_sample() over saved logits instead of the context's current ones (accepts the token). */
llama_token SampleFromLogits(llama_sampler * smpl, const std::vector<float> & logits);

}  // namespace lld
