export { REPO_ROOT } from '../../../tools/local-servers/repo-root';
