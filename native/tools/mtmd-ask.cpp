// llava-desk-mtmd-ask: the least a program can do to answer a question about an image with
// libmtmd: load the model and the projector, evaluate a vicuna_v1 prompt with the image
// (mtmd_helper_eval_chunks), generate greedily, print the answer. No chat loop, no sampling
// options, no common/ library: the floor a cold `llava-desk ask` is measured against in
// `npm run bench:engine`. Built by scripts/build-native.mjs from the same source as the app, and
// as llava-desk-mtmd-ask-upstream from the source without llava-desk's patches (native/patches),
// which `npm run eval:shapes-model` asks too.
//
// usage: llava-desk-mtmd-ask -m MODEL.gguf --mmproj MMPROJ.gguf --image IMAGE -p PROMPT
//                            [-n TOKENS] [-t THREADS] [-c CONTEXT]

#include <cstdio>
#include <string>
#include <vector>

#include "tool-common.hpp"

int main(int argc, char ** argv) {
    tool::Name() = "llava-desk-mtmd-ask";
    std::string model, mmproj, image, prompt, tokensArg, threadsArg, contextArg;
    tool::ParseArgs(argc, argv,
                    {{{"-m", "--model"}, &model},
                     {{"--mmproj"}, &mmproj},
                     {{"--image"}, &image},
                     {{"-p", "--prompt"}, &prompt},
                     {{"-n"}, &tokensArg},
                     {{"-t", "--threads"}, &threadsArg},
                     {{"-c", "--ctx-size"}, &contextArg}});
    if (model.empty() || mmproj.empty() || image.empty() || prompt.empty()) {
        tool::Die("usage: llava-desk-mtmd-ask -m MODEL --mmproj MMPROJ --image IMAGE -p PROMPT [-n N] [-t N] [-c N]");
    }
    const int tokens = tool::IntArg(tokensArg, 32);
    const int threads = tool::IntArg(threadsArg, 4);

    llama_model * lm = tool::LoadModel(model);
    llama_context_params cp = llama_context_default_params();
    cp.n_ctx = static_cast<uint32_t>(tool::IntArg(contextArg, 4096));
    cp.n_batch = 2048;
    cp.n_threads = threads;
    cp.n_threads_batch = threads;
    llama_context * lctx = llama_init_from_model(lm, cp);
    if (lctx == nullptr) tool::Die("cannot create a context");

    mtmd_context_params p = mtmd_context_params_default();
    p.n_threads = threads;
    mtmd_context * ctx = tool::LoadProjector(mmproj, lm, p);
    mtmd_bitmap * bitmap = tool::LoadImage(ctx, image);

    // LLaVA-1.5's vicuna_v1 template, the image first in the user's message.
    const std::string text = std::string(
                                 "A chat between a curious user and an artificial intelligence assistant. The assistant "
                                 "gives helpful, detailed, and polite answers to the user's questions. USER: ") +
                             mtmd_default_marker() + "\n" + prompt + " ASSISTANT:";
    mtmd_input_chunks * chunks = mtmd_input_chunks_init();
    mtmd_input_text txt{text.c_str(), text.size(), true, true};
    const mtmd_bitmap * bitmaps[] = {bitmap};
    if (mtmd_tokenize(ctx, chunks, &txt, bitmaps, 1) != 0) tool::Die("mtmd_tokenize failed");
    llama_pos nPast = 0;
    if (mtmd_helper_eval_chunks(ctx, lctx, chunks, 0, 0, cp.n_batch, true, &nPast) != 0) {
        tool::Die("evaluating the prompt failed");
    }

    llama_sampler * greedy = llama_sampler_init_greedy();
    const llama_vocab * vocab = llama_model_get_vocab(lm);
    std::string answer;
    for (int i = 0; i < tokens; i++) {
        const llama_token tok = llama_sampler_sample(greedy, lctx, -1);
        if (llama_vocab_is_eog(vocab, tok)) break;
        char piece[256];
        const int n = llama_token_to_piece(vocab, tok, piece, sizeof(piece), 0, true);
        if (n > 0) answer.append(piece, static_cast<size_t>(n));
        llama_token one = tok;
        if (llama_decode(lctx, llama_batch_get_one(&one, 1)) != 0) tool::Die("llama_decode failed");
    }
    std::printf("%s\n", answer.c_str());

    llama_sampler_free(greedy);
    mtmd_input_chunks_free(chunks);
    mtmd_bitmap_free(bitmap);
    mtmd_free(ctx);
    llama_free(lctx);
    llama_model_free(lm);
    llama_backend_free();
    return 0;
}
