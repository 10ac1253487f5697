// libmtmd's own image path, for the imaging benchmark and for exact token counts:
//   mtmdBitmapFromFile(mtmd, path) -> Promise<Bitmap>   (mtmd_helper_bitmap_init_from_file: stb_image)
//   mtmdTokenize(mtmd, text, bitmaps, opts?) -> Promise<{ chunks, textTokens, imageTokens, tokenizeMs }>
//     (mtmd_tokenize, which preprocesses every image, without encoding anything)
#pragma once

#include <napi.h>

namespace lld {

void RegisterImagingBench(Napi::Env env, Napi::Object exports);

}  // namespace lld
