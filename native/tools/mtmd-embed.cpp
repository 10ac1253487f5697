// llava-desk-mtmd-embed: writes one image's embeddings exactly as libmtmd feeds them to the LLM
// (float32, tokens x width, row-major) and prints {"tokens":N,"width":W} as JSON.
//
// A diagnostic, built twice by scripts/build-native.mjs: from the patched llama.cpp source (the one
// the app ships) and from the unpatched upstream source (llava-desk-mtmd-embed-upstream), so tests
// can show what the patch series (native/patches, docs/UPSTREAM.md) changes. The image is decoded
// by libmtmd's helper (stb_image) and preprocessed by libmtmd itself, as llama-mtmd-cli does.
//
// usage: llava-desk-mtmd-embed -m MODEL.gguf --mmproj MMPROJ.gguf --image IMAGE -o OUT.f32
//                              [-t THREADS] [--image-max-tokens N] [--flash-attn auto|on|off]

#include <cstdio>
#include <string>
#include <vector>

#include "tool-common.hpp"

int main(int argc, char ** argv) {
    tool::Name() = "llava-desk-mtmd-embed";
    std::string model, mmproj, image, out, threads, imageMaxTokens, flashAttn;
    tool::ParseArgs(argc, argv,
                    {{{"-m", "--model"}, &model},
                     {{"--mmproj"}, &mmproj},
                     {{"--image"}, &image},
                     {{"-o", "--out"}, &out},
                     {{"-t", "--threads"}, &threads},
                     {{"--image-max-tokens"}, &imageMaxTokens},
                     {{"--flash-attn"}, &flashAttn}});
    if (model.empty() || mmproj.empty() || image.empty() || out.empty()) {
        tool::Die("usage: llava-desk-mtmd-embed -m MODEL --mmproj MMPROJ --image IMAGE -o OUT.f32 [-t N]");
    }
    llama_flash_attn_type flash = LLAMA_FLASH_ATTN_TYPE_AUTO;
    if (flashAttn == "on") flash = LLAMA_FLASH_ATTN_TYPE_ENABLED;
    else if (flashAttn == "off") flash = LLAMA_FLASH_ATTN_TYPE_DISABLED;
    else if (!flashAttn.empty() && flashAttn != "auto") tool::Die("--flash-attn takes auto, on or off");

    llama_model * lm = tool::LoadModel(model);
    mtmd_context_params p = mtmd_context_params_default();
    p.n_threads = tool::IntArg(threads, 4);
    p.warmup = false;
    p.flash_attn_type = flash;
    const int maxTokens = tool::IntArg(imageMaxTokens, 0);
    if (maxTokens > 0) p.image_max_tokens = maxTokens;
    mtmd_context * ctx = tool::LoadProjector(mmproj, lm, p);
    mtmd_bitmap * bitmap = tool::LoadImage(ctx, image);

    mtmd_input_chunks * chunks = mtmd_input_chunks_init();
    const std::string text = mtmd_default_marker();
    mtmd_input_text txt{text.c_str(), text.size(), false, true};
    const mtmd_bitmap * bitmaps[] = {bitmap};
    if (mtmd_tokenize(ctx, chunks, &txt, bitmaps, 1) != 0) tool::Die("mtmd_tokenize failed");

    const int width = llama_model_n_embd_inp(lm);
    std::vector<float> all;
    size_t tokens = 0;
    for (size_t i = 0; i < mtmd_input_chunks_size(chunks); i++) {
        const mtmd_input_chunk * chunk = mtmd_input_chunks_get(chunks, i);
        if (mtmd_input_chunk_get_type(chunk) != MTMD_INPUT_CHUNK_TYPE_IMAGE) continue;
        const size_t n = mtmd_input_chunk_get_n_tokens(chunk);
        if (mtmd_encode_chunk(ctx, chunk) != 0) tool::Die("mtmd_encode_chunk failed");
        const float * embd = mtmd_get_output_embd(ctx);
        all.insert(all.end(), embd, embd + n * static_cast<size_t>(width));
        tokens += n;
    }
    if (tokens == 0) tool::Die("the image produced no image chunk");

    FILE * f = std::fopen(out.c_str(), "wb");
    if (f == nullptr || std::fwrite(all.data(), sizeof(float), all.size(), f) != all.size() || std::fclose(f) != 0) {
        tool::Die("cannot write " + out);
    }
    std::printf("{\"tokens\":%zu,\"width\":%d}\n", tokens, width);

    mtmd_input_chunks_free(chunks);
    mtmd_bitmap_free(bitmap);
    mtmd_free(ctx);
    llama_model_free(lm);
    llama_backend_free();
    return 0;
}
