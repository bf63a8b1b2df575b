//! Images: listing, status, pulling (with registry credentials), removal.

use super::*;

crate::message! {
    pub struct ImageSpec {
        /// Name, reference or ID.
        1 => image: string,
        2 => annotations: map(string, string),
        /// The image as written in the pod spec.
        18 => user_specified_image: string,
        19 => runtime_handler: string,
        20 => image_ref: string,
    }

    pub struct ImageFilter {
        1 => image: message(ImageSpec),
    }

    pub struct ListImagesRequest {
        1 => filter: message(ImageFilter),
    }

    pub struct Image {
        1 => id: string,
        2 => repo_tags: repeated(string),
        3 => repo_digests: repeated(string),
        4 => size: uint64,
        /// The image's user, when it is a number.
        5 => uid: message(Int64Value),
        /// The image's user, when it is a name.
        6 => username: string,
        7 => spec: message(ImageSpec),
        /// Never garbage-collected.
        8 => pinned: bool,
    }

    pub struct ListImagesResponse {
        1 => images: repeated(message(Image)),
    }

    pub struct ImageStatusRequest {
        1 => image: message(ImageSpec),
        2 => verbose: bool,
    }

    pub struct ImageStatusResponse {
        /// `None` when the image is not present.
        1 => image: message(Image),
        2 => info: map(string, string),
    }

    /// Registry credentials; the secrets do not show in `Debug` output.
    pub struct AuthConfig {
        1 => username: string,
        2 => password: secret,
        /// base64 of `user:password`.
        3 => auth: secret,
        4 => server_address: string,
        5 => identity_token: secret,
        6 => registry_token: secret,
    }

    pub struct PullImageRequest {
        1 => image: message(ImageSpec),
        2 => auth: message(AuthConfig),
        3 => sandbox_config: message(PodSandboxConfig),
    }

    pub struct PullImageResponse {
        1 => image_ref: string,
    }

    pub struct RemoveImageRequest {
        1 => image: message(ImageSpec),
    }

    pub struct RemoveImageResponse {}

    pub struct ImageFsInfoRequest {}
}
